import Foundation
import GRDB
import ImJoyCore
@testable import ImJoyEngine
import ImJoyTesting
import Testing

@Suite("Engine store (SQLite)")
struct StoreTests {
    func withStore(_ body: (EngineStore, URL) async throws -> Void) async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let url = directory.url.appendingPathComponent("imjoy.sqlite")
        try await body(try EngineStore.open(at: url), url)
    }

    func plugin(_ name: String, version: String = "0.1.0", in workspace: String = "lab") -> InstalledPluginRecord {
        InstalledPluginRecord(
            workspace: workspace, id: name.replacingOccurrences(of: " ", with: "_"), name: name, version: version,
            type: "native-python", tag: nil, origin: nil, source: "<config>{\"name\": \"\(name)\"}</config>")
    }

    @Test func reopeningKeepsEverythingAndMigratesOnce() async throws {
        try await withStore { store, url in
            try await store.createWorkspace(WorkspaceRecord(name: "lab", owner: "owner"))
            try await store.install([plugin("A"), plugin("B")], owner: "owner", temporary: false)
            try await store.setConfig(["k": "1"], of: "A", in: "lab", owner: "owner", temporary: false)
            try await store.saveWorkflow(WorkflowRecord(name: "w", definition: "{}"), in: "lab", owner: "owner", temporary: false)
            let again = try EngineStore.open(at: url)
            #expect(try await again.plugins(in: "lab").map(\.name) == ["A", "B"])
            #expect(try await again.config(of: "A", in: "lab") == ["k": "1"])
            #expect(try await again.workflows(in: "lab").map(\.name) == ["w"])
            #expect(try await again.integrityCheck() == ["ok"])
        }
    }

    @Test func aFailingTransactionLeavesNoPartOfIt() async throws {
        try await withStore { store, _ in
            try await store.createWorkspace(WorkspaceRecord(name: "lab", owner: "owner"))
            var broken = plugin("Second")
            broken.workspace = "lab"
            // A record whose id collides inside one batch with a NOT NULL violation after the first insert.
            let bad = InstalledPluginRecord(
                workspace: "lab", id: "Third", name: "Third", version: "1", type: "native-python", tag: nil, origin: nil,
                source: "x")
            await #expect(throws: StoreError.self) {
                try await store.write { db in
                    try db.execute(
                        sql: "INSERT INTO plugin (workspace, id, name, version, type, source, hash, installed_at, updated_at) VALUES ('lab', 'First', 'First', '1', 't', 's', 'h', 0, 0)")
                    try db.execute(sql: "INSERT INTO plugin (workspace, id) VALUES ('lab', 'Broken')")
                }
            }
            #expect(try await store.plugins(in: "lab").isEmpty)
            try await store.install([broken, bad], owner: "owner", temporary: false)
            #expect(try await store.plugins(in: "lab").map(\.name) == ["Second", "Third"])
        }
    }

    @Test func reinstallingKeepsTheFirstInstallTimeAndReplacesTheSource() async throws {
        try await withStore { store, _ in
            var first = plugin("A")
            first.installedAt = Date(timeIntervalSince1970: 1000)
            try await store.install([first], owner: "owner", temporary: true)
            var second = plugin("A", version: "0.2.0")
            second.installedAt = Date(timeIntervalSince1970: 2000)
            try await store.install([second], owner: "owner", temporary: true)
            let stored = try #require(try await store.plugin("a", in: "lab"))
            #expect(stored.version == "0.2.0")
            #expect(stored.installedAt == Date(timeIntervalSince1970: 1000))
            #expect(stored.hash.count == 64)
        }
    }

    @Test func renamingAndDeletingCarryEveryTableAlong() async throws {
        try await withStore { store, _ in
            try await store.createWorkspace(WorkspaceRecord(name: "lab", owner: "owner"))
            try await store.install([plugin("A")], owner: "owner", temporary: false)
            try await store.setConfig(["k": "1"], of: "A", in: "lab", owner: "owner", temporary: false)
            try await store.setLayout("{\"w\": 1}", of: "lab", owner: "owner", temporary: false)
            try await store.renameWorkspace("lab", to: "studio")
            #expect(try await store.plugins(in: "studio").map(\.name) == ["A"])
            #expect(try await store.config(of: "A", in: "studio") == ["k": "1"])
            #expect(try await store.layout(of: "studio") == "{\"w\": 1}")
            await #expect(throws: StoreError.self) { try await store.createWorkspace(WorkspaceRecord(name: "studio", owner: "x")) }
            #expect(try await store.deleteWorkspace("studio"))
            #expect(try await store.plugins(in: "studio").isEmpty)
            #expect(try await store.config(of: "A", in: "studio").isEmpty)
        }
    }

    @Test func temporaryWorkspacesAreDroppedAtStart() async throws {
        try await withStore { store, _ in
            try await store.install([plugin("A", in: "ws-user-guest")], owner: "guest", temporary: true)
            try await store.createWorkspace(WorkspaceRecord(name: "kept", owner: "owner"))
            #expect(try await store.deleteTemporaryWorkspaces() == 1)
            #expect(try await store.workspaces().map(\.name) == ["kept"])
        }
    }

    @Test func revokedTokensAreRemembered() async throws {
        try await withStore { store, _ in
            let now = Date()
            try await store.recordToken(
                TokenRecord(
                    id: "t1", workspace: "lab", permission: "read", label: "x", issuedBy: "owner", issuedAt: now,
                    expiresAt: now.addingTimeInterval(60)))
            #expect(try await store.token("t1")?.revokedAt == nil)
            let revoked = try #require(try await store.revokeToken("t1"))
            #expect(revoked.revokedAt != nil)
            #expect(try await store.revokeToken("nope") == nil)
            #expect(try await store.tokens(in: "lab").map(\.id) == ["t1"])
        }
    }

    @Test func anUnopenableDatabaseNamesTheFileAndTheFix() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let url = directory.url.appendingPathComponent("imjoy.sqlite")
        try Data("this is not a database, just some text that is long enough to fill a header".utf8).write(to: url)
        #expect {
            _ = try EngineStore.open(at: url)
        } throws: { error in
            let message = (error as? StoreError)?.message ?? ""
            return message.contains(url.path) && message.contains("move it away")
        }
    }
}

@Suite("Plugin versions")
struct PluginVersionTests {
    @Test(arguments: [
        ("0.1.9", "0.1.10", true), ("0.1.10", "0.1.9", false), ("1.0", "1.0.0", false), ("1.0.0", "1.0", false),
        ("1.0.0rc1", "1.0.0", true), ("1.0.0", "1.0.0rc1", false), ("v0.2", "0.3", true), ("0.2.0", "0.2.0", false),
    ])
    func ordering(_ a: String, _ b: String, _ older: Bool) {
        #expect(PluginVersion.isOlder(a, than: b) == older)
    }
}
