import GRDB

/// The database schema, one registered migration per version. Never edit a shipped migration: add a new one.
enum StoreMigrations {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: workspaces, plugins, config, workflows, tokens, repositories") { db in
            try db.execute(
                sql: """
                    CREATE TABLE workspace (
                        name TEXT PRIMARY KEY NOT NULL,
                        description TEXT NOT NULL DEFAULT '',
                        owner TEXT NOT NULL,
                        temporary INTEGER NOT NULL DEFAULT 0,
                        settings TEXT NOT NULL DEFAULT '{}',
                        layout TEXT,
                        created_at REAL NOT NULL
                    );
                    CREATE TABLE plugin (
                        workspace TEXT NOT NULL REFERENCES workspace(name) ON DELETE CASCADE ON UPDATE CASCADE,
                        id TEXT NOT NULL,
                        name TEXT NOT NULL,
                        version TEXT NOT NULL,
                        type TEXT NOT NULL,
                        tag TEXT,
                        origin TEXT,
                        source TEXT NOT NULL,
                        hash TEXT NOT NULL,
                        enabled INTEGER NOT NULL DEFAULT 1,
                        installed_at REAL NOT NULL,
                        updated_at REAL NOT NULL,
                        PRIMARY KEY (workspace, id)
                    );
                    CREATE TABLE plugin_config (
                        workspace TEXT NOT NULL REFERENCES workspace(name) ON DELETE CASCADE ON UPDATE CASCADE,
                        plugin TEXT NOT NULL,
                        key TEXT NOT NULL,
                        value TEXT NOT NULL,
                        PRIMARY KEY (workspace, plugin, key)
                    );
                    CREATE TABLE workflow (
                        workspace TEXT NOT NULL REFERENCES workspace(name) ON DELETE CASCADE ON UPDATE CASCADE,
                        name TEXT NOT NULL,
                        definition TEXT NOT NULL,
                        saved_at REAL NOT NULL,
                        PRIMARY KEY (workspace, name)
                    );
                    CREATE TABLE token (
                        id TEXT PRIMARY KEY NOT NULL,
                        workspace TEXT NOT NULL,
                        permission TEXT NOT NULL,
                        label TEXT NOT NULL DEFAULT '',
                        issued_by TEXT NOT NULL,
                        issued_at REAL NOT NULL,
                        expires_at REAL NOT NULL,
                        revoked_at REAL
                    );
                    CREATE INDEX token_workspace ON token(workspace);
                    CREATE TABLE repository (
                        url TEXT PRIMARY KEY NOT NULL,
                        name TEXT NOT NULL,
                        description TEXT NOT NULL DEFAULT '',
                        added_at REAL NOT NULL
                    );
                    """)
        }
        return migrator
    }
}
