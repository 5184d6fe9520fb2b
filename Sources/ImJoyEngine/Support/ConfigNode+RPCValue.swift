public import ImJoyCore
public import ImJoyRPC
import MessagePack

extension ConfigNode {
    /// The value as an RPC value (through its JSON form), to send a config value, a form default or a schema.
    public var rpcValue: RPCValue {
        .encoded(JSONText.value(from: json) ?? .nil)
    }
}
