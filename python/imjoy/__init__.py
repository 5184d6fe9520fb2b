"""ImJoy's Python plugin runtime: `from imjoy import api` inside a plugin run by the imjoy engine.

The engine starts each native-python plugin with `python -m imjoy.runner`; the runner connects to the engine with
hypha-rpc, binds `api` below to the connection, runs the plugin script, and serves what it exports.
"""

__version__ = "0.1.0"

#: The plugin's ImJoy API; bound by the runner before the plugin script runs.
api = None
