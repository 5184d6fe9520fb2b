import Foundation
import ImJoyCore
@testable import ImJoyEngine
import ImJoyTesting
import Logging
import Synchronization
import Testing

@Suite("Environment specs and installer errors")
struct EnvironmentSpecTests {
    let python = PythonInterpreter(path: "/usr/bin/python3", version: "3.11.7")

    @Test func keyIgnoresOrderDuplicatesSpellingAndSpaces() {
        let a = EnvironmentSpec(interpreter: python, packages: ["numpy", "scikit_image >= 0.20", "NumPy"])
        let b = EnvironmentSpec(interpreter: python, packages: ["Scikit.Image>=0.20", "numpy"])
        #expect(a.key == b.key)
        #expect(a.packages == ["numpy", "scikit-image>=0.20"])
        #expect(a.key.count == 20)
    }

    @Test func keyChangesWithInterpreterAndRequirements() {
        let base = EnvironmentSpec(interpreter: python, packages: ["numpy"])
        #expect(base.key != EnvironmentSpec(interpreter: python, packages: ["numpy==2.0"]).key)
        #expect(base.key != EnvironmentSpec(interpreter: .init(path: python.path, version: "3.12.1"), packages: ["numpy"]).key)
        #expect(base.key != EnvironmentSpec(interpreter: python, packages: ["numpy"], condaPackages: ["scipy"]).key)
    }

    @Test func urlAndVcsSpecifiersAreKeptVerbatim() {
        let spec = EnvironmentSpec(interpreter: python, packages: ["git+https://github.com/a/B.git", "https://x.org/P-1.0.whl"])
        #expect(spec.packages == ["git+https://github.com/a/B.git", "https://x.org/P-1.0.whl"])
        #expect(PythonPackageName.name(of: "git+https://github.com/a/B.git") == nil)
    }

    @Test func blamesTheMissingPackageInUvOutput() {
        let output = [
            "Using Python 3.11.7 environment at: env",
            "error: No solution found when resolving dependencies",
            "  cause: Because imjoy-no-such-package-xyz was not found in the package registry and you require "
                + "imjoy-no-such-package-xyz, we can conclude that your requirements are unsatisfiable.",
        ]
        let blamed = EnvironmentError.blamedRequirement(
            in: output, requested: ["numpy", "imjoy_no_such_package_xyz==1.0"])
        #expect(blamed == "imjoy_no_such_package_xyz==1.0")
    }

    @Test func blamesTheMissingPackageInPipOutput() {
        let output = [
            "Collecting numpy", "  Downloading numpy-2.4.6.whl (16 MB)",
            "ERROR: Could not find a version that satisfies the requirement imjoy-no-such-package-xyz (from versions: none)",
        ]
        #expect(EnvironmentError.blamedRequirement(in: output, requested: ["numpy", "imjoy-no-such-package-xyz"])
            == "imjoy-no-such-package-xyz")
        #expect(EnvironmentError.blamedRequirement(in: ["Collecting numpy", "Segmentation fault"], requested: ["numpy"]) == nil)
    }
}

@Suite("Child processes")
struct ChildProcessTests {
    let environment = ProcessInfo.processInfo.environment

    @Test func collectsBothStreamsAndTheExitCode() async throws {
        let result = await CommandRunner.run(
            CommandSpec(executable: "sh", arguments: ["-c", "echo out; echo err >&2; exit 3"], environment: environment),
            keepAll: true)
        #expect(result.status == .exited(3))
        #expect(Set(result.lines) == ["out", "err"])
    }

    @Test func aMissingExecutableIsAnErrorNotACrash() async {
        let result = await CommandRunner.run(
            CommandSpec(executable: "/nonexistent/imjoy-no-such-binary", environment: environment))
        guard case .failedToStart = result.status else {
            Issue.record("expected failedToStart, got \(result.status)")
            return
        }
    }

    @Test func signalReachesTheWholeProcessGroup() async throws {
        let process = try await ChildProcess.launch(
            CommandSpec(executable: "sh", arguments: ["-c", "sleep 30 & echo $!; wait"], environment: environment))
        var iterator = process.output.makeAsyncIterator()
        let grandchild = try #require(await iterator.next().flatMap { Int32($0.text) })
        process.signal(SIGTERM)
        #expect(await process.exitStatus == .signalled(SIGTERM))
        // The grandchild (same process group) is gone too.
        var alive = true
        for _ in 0..<50 where alive {
            alive = kill(grandchild, 0) == 0 && !isZombie(grandchild)
            if alive { try await Task.sleep(for: .milliseconds(20)) }
        }
        #expect(!alive)
    }

    private func isZombie(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return true }
        return stat.split(separator: ")").last?.split(separator: " ").first == "Z"
    }
}

@Suite("Ring buffer")
struct RingBufferTests {
    @Test func keepsTheNewestElementsInOrder() {
        var buffer = RingBuffer<Int>(capacity: 3)
        for i in 1...5 { buffer.append(i) }
        #expect(buffer.elements == [3, 4, 5])
        #expect(buffer.appendedCount == 5)
        #expect(buffer.suffix(2) == [4, 5])
    }
}

@Suite("Environment manager (real interpreter, offline)")
struct EnvironmentManagerTests {
    func manager(_ directory: TemporaryDirectory, installer: InstallerPreference = .pip, path: String? = nil)
        -> EnvironmentManager
    {
        var environment = ProcessInfo.processInfo.environment
        if let path { environment["PATH"] = path }
        return EnvironmentManager(
            settings: EnvironmentSettings(
                environmentsDirectory: directory.url.appendingPathComponent("envs"),
                cacheDirectory: directory.url.appendingPathComponent("cache"), installer: installer, offline: true,
                processEnvironment: environment),
            logger: Logger(label: "test"))
    }

    @Test func condaPackagesWithoutCondaSayWhatToDo() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let python = try await manager(directory).interpreter()
        let manager = manager(directory, path: "/nonexistent")
        do {
            _ = try await manager.prepare(EnvironmentSpec(interpreter: python, packages: ["numpy"], condaPackages: ["cellpose"]))
            Issue.record("a conda environment was made without conda")
        } catch {
            #expect(error.kind == .condaMissing)
            #expect(error.message.contains("cellpose") && error.message.contains("conda"))
        }
        #expect(await manager.cachedKeys().isEmpty)
    }

    @Test func aFailedInstallNamesThePackageAndLeavesNothingBehind() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let manager = manager(directory)
        let python = try await manager.interpreter()
        let spec = EnvironmentSpec(interpreter: python, packages: ["imjoy-no-such-package-xyz==1.0"])
        do {
            _ = try await manager.prepare(spec)
            Issue.record("installing a package that does not exist succeeded")
        } catch {
            #expect(error.kind == .install)
            #expect(error.requirement == "imjoy-no-such-package-xyz==1.0")
            #expect(error.description.contains("imjoy-no-such-package-xyz"))
            #expect(!error.outputTail.isEmpty)
        }
        let envs = directory.url.appendingPathComponent("envs")
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: envs.path)) ?? []).isEmpty)
    }

    @Test func concurrentRequestsShareOneBuildAndLaterOnesReuseIt() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let manager = manager(directory)
        let spec = EnvironmentSpec(interpreter: try await manager.interpreter(), packages: [])
        let waited = Mutex(false)
        async let first = manager.prepare(spec)
        async let second = manager.prepare(spec) { event in
            if case .phase(let text, _) = event, text.contains("already being built") { waited.withLock { $0 = true } }
        }
        let (a, b) = try await (first, second)
        #expect(a.directory.path == b.directory.path)
        #expect(!a.reused)
        #expect(FileManager.default.isExecutableFile(atPath: a.python))
        let third = try await manager.prepare(spec)
        #expect(third.reused && third.directory.path == a.directory.path)
        #expect(await manager.cachedKeys() == [spec.key])
        // Either the second request joined the first build, or (if it was scheduled after) it reused the result.
        #expect(waited.withLock { $0 } || b.reused)
    }
}
