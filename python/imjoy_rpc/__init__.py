"""Legacy name of the ImJoy API module (`from imjoy_rpc import api`)."""
import imjoy as _imjoy


def __getattr__(name):
    if name == "api":
        return _imjoy.api
    raise AttributeError(name)
