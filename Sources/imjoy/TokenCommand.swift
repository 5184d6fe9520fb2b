import ArgumentParser
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ImJoyClient
import ImJoyEngine
import ImJoyRPC

/// `imjoy token`: issues, lists and revokes workspace tokens from the engine's data directory (no running engine
/// needed).
struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Issue, list or revoke tokens that let others (or plugins, or a worker) into a workspace.",
        discussion: """
            Works on the data directory directly, so the engine need not run. A revoked token is refused at the \
            next connection; when the engine of --data-dir runs, it also disconnects the token's holders (a \
            worker, say) at once.
              imjoy token --workspace default --permission read --expires-in 3600
              imjoy token --list
              imjoy token --revoke 1b4e28ba-2fa1-11d2-883f-0016d3cca427
              imjoy token --admin
              imjoy token --worker --workspace default --label gpu-box

            A worker token (--worker) lets `imjoy worker` register a plugin host in --workspace and answer the \
            engine's calls, nothing more: it cannot list, call or install anything.
            """)

    @Option(name: .customLong("data-dir"), help: "The engine's data directory.")
    var dataDirectory = "~/.imjoy"

    @Option(help: "The workspace the token admits to.")
    var workspace = "default"

    @Option(help: "read, read_write or admin.")
    var permission = "read_write"

    @Option(name: .customLong("expires-in"), help: "Seconds until the token expires (at most one year).")
    var expiresIn: Double = 86_400

    @Option(help: "What the token is for (shown by --list).")
    var label = ""

    @Flag(help: "List the unexpired tokens of --workspace (ids, never the tokens themselves).")
    var list = false

    @Option(help: "Revoke the token with this id (from --list).")
    var revoke: String?

    @Flag(help: "Print the engine owner's admin token.")
    var admin = false

    @Flag(help: "Issue a worker token: it may register plugin hosts (imjoy worker) in --workspace and nothing more.")
    var worker = false

    func validate() throws {
        guard Permission(name: permission) != nil else {
            throw ValidationError("--permission \(permission) is not one of read, read_write, admin")
        }
        guard expiresIn >= 1, expiresIn <= 366 * 86_400 else {
            throw ValidationError("--expires-in \(expiresIn) must be between 1 and 31622400 seconds")
        }
        guard [list, revoke != nil, admin, worker].filter({ $0 }).count <= 1 else {
            throw ValidationError("--list, --revoke, --admin and --worker cannot be combined")
        }
    }

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let data = URL(fileURLWithPath: ServeCommand.expandingHome(dataDirectory, environment))
        if admin {
            print(try AdminToken.load(dataDirectory: data).value)
            return
        }
        let store = try EngineStore.open(at: data.appendingPathComponent("imjoy.sqlite"))
        if list {
            for record in try await store.tokens(in: workspace) {
                let state = record.revokedAt == nil ? "active" : "revoked"
                print(
                    "\(record.id)  \(record.permission)  \(state)  expires \(record.expiresAt.formatted(.iso8601))  \(record.label)")
            }
            return
        }
        if let revoke {
            guard let record = try await store.revokeToken(revoke) else {
                throw ValidationError("No token with id \(revoke) was issued here (imjoy token --list shows them)")
            }
            print("revoked \(record.id) (\(record.workspace), \(record.permission))")
            await disconnectHolders(of: revoke, data: data)
            return
        }
        guard try await store.workspace(workspace) != nil else {
            throw ValidationError(
                "Workspace \(workspace) does not exist in \(data.path) (create it first; `default` exists after the first start)")
        }
        let tokens = try await TokenIssuer.load(dataDirectory: data)
        if worker {
            let (token, _) = try await tokens.issueWorkerToken(
                workspace: workspace, lifetime: .seconds(expiresIn), label: label, issuer: AdminToken.owner, store: store)
            print(token)
            return
        }
        let (token, _) = try await tokens.issueWorkspaceToken(
            workspace: workspace, permission: Permission(name: permission) ?? .readWrite,
            lifetime: .seconds(expiresIn), label: label, issuer: AdminToken.owner, store: store)
        print(token)
    }

    /// Asks the engine running on `data`, if any, to drop the connections the revoked token admitted.
    private func disconnectHolders(of id: String, data: URL) async {
        guard let engine = RunningEngineFile.running(in: data), let admin = try? AdminToken.load(dataDirectory: data) else {
            return
        }
        do {
            let dropped = try await ImJoyClient.withConnection(
                to: engine.url, options: ConnectionOptions(token: admin.value, methodTimeout: .seconds(10))
            ) { client in
                try await client.manager("revoke_token", [.string(id)])
            }
            print("the running engine (\(engine.url)) disconnected its holders: \(dropped["disconnected"]?.intValue ?? 0) connection(s)")
        } catch {
            print("note: the running engine (\(engine.url)) was not told (\(error)); it refuses the token at the next connection")
        }
    }
}
