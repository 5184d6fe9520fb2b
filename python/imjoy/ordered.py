"""One workflow run's calls to a plugin function, taken one at a time in the order they arrive.

`imjoy run` sends a step's next input while the plugin still works on the current one, so the plugin never waits
for a round trip through the engine between two inputs. The call's `ctx` carries ImJoy's `_workflow_id`; calls
with the same id to the same function run one after the other, in arrival order, as if they had been sent one at a
time. Calls without it (the web app, other plugins) are passed straight through, as before. A plugin whose service
config says `WORKFLOW_CALLS_IN_ORDER` has its `run` functions wrapped this way; `imjoy run` sends ahead only to those,
and only once the previous call is wholly sent, so the calls arrive in input order.

The queue is not reentrant: a `run` that calls itself (or another function sharing its queue) through RPC with the
same ctx waits for itself. Generator functions and functions of other peers are left as they are (`is_in_order`).
"""
import asyncio
import functools
import inspect

WORKFLOW_KEY = "_workflow_id"
WORKFLOW_CALLS_IN_ORDER = "workflow_calls_in_order"


def _workflow_of(args, kwargs):
    ctx = args[0] if args else kwargs.get("ctx")
    if isinstance(ctx, dict):
        key = ctx.get(WORKFLOW_KEY)
        if isinstance(key, str):
            return key
    return None


class _Queues:
    """A FIFO lock per workflow id, dropped once no call of that workflow is waiting or running."""

    def __init__(self):
        self._locks = {}

    async def run(self, key, call):
        entry = self._locks.setdefault(key, [asyncio.Lock(), 0])
        entry[1] += 1
        try:
            async with entry[0]:  # asyncio.Lock wakes its waiters in the order they came
                result = call()
                if inspect.isawaitable(result):
                    result = await result
                return result
        finally:
            entry[1] -= 1
            if entry[1] == 0:
                del self._locks[key]


def is_in_order(function):
    """Whether `function` queues workflow calls (it came from `in_order` and was wrapped)."""
    return getattr(function, "__imjoy_in_order__", None) is not None


def in_order(function):
    """`function`, taking the calls whose ctx has the same `_workflow_id` one at a time in arrival order.

    An `async def` stays a coroutine function, a plain function stays plain (it returns an awaitable only for a
    workflow call), so hypha-rpc describes it to callers as before. Generator functions (their iteration would
    outlive the queue's turn) and another peer's functions (hypha-rpc passes them on by reference) come back
    unwrapped.
    """
    if is_in_order(function) or hasattr(function, "__rpc_object__"):
        return function
    if inspect.isgeneratorfunction(function) or inspect.isasyncgenfunction(function):
        return function
    queues = _Queues()
    if inspect.iscoroutinefunction(function):

        @functools.wraps(function)
        async def ordered(*args, **kwargs):
            key = _workflow_of(args, kwargs)
            if key is None:
                return await function(*args, **kwargs)
            return await queues.run(key, lambda: function(*args, **kwargs))

    else:

        @functools.wraps(function)
        def ordered(*args, **kwargs):
            key = _workflow_of(args, kwargs)
            if key is None:
                return function(*args, **kwargs)
            return queues.run(key, lambda: function(*args, **kwargs))

    ordered.__imjoy_in_order__ = queues
    return ordered
