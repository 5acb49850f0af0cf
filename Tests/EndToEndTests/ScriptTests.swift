import Foundation
import Testing

/// What a newcomer meets around the tests: the package step waits for another apt's dpkg
/// lock and says so, the run uses one test framework, and the benchmark's smoke run
/// judges only what it can.
@Suite("scripts/test: packages, frameworks, the benchmark's smoke run")
struct ScriptTests {
    @Test("scripts/test-packages waits for the dpkg lock (DPkg::Lock::Timeout) and says what it waits for")
    func packagesWaitForTheLock() throws {
        let sandbox = try Sandbox()
        let stubs = sandbox.root + "/stubs"
        let log = sandbox.root + "/apt-get.log"
        try FileManager.default.createDirectory(atPath: stubs, withIntermediateDirectories: true)
        // Root, with an apt-get that records its arguments; nothing else on PATH, so every
        // package checked with `command -v` is missing.
        try "#!/bin/sh\necho 0\n".write(toFile: stubs + "/id", atomically: true, encoding: .utf8)
        try "#!/bin/sh\necho \"$*\" >> \(log)\n".write(toFile: stubs + "/apt-get", atomically: true, encoding: .utf8)
        for stub in ["id", "apt-get"] {
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: stubs + "/" + stub)
        }
        var missing = ["python3-venv", "util-linux"]
        if !FileManager.default.isExecutableFile(atPath: "/usr/bin/chromium") { missing.append("chromium") }
        if !FileManager.default.isExecutableFile(atPath: "/usr/bin/chromedriver") { missing.append("chromium-driver") }
        missing += ["openssh-client", "hyperfine", "nodejs", "cargo"]
        // Checked by file, not on PATH: the curl headers (to link the HTTPS helper) and sshd.
        if !["/usr/include/x86_64-linux-gnu/curl/curl.h", "/usr/include/curl/curl.h"].contains(where: FileManager.default.fileExists) {
            missing.append("libcurl4-openssl-dev")
        }
        missing += ["mandoc", "zsh", "fish", "systemd"]
        if !FileManager.default.isExecutableFile(atPath: "/usr/sbin/sshd") { missing.append("openssh-server") }
        missing.append("strace")
        missing.append("openssl")
        if !FileManager.default.fileExists(atPath: "/etc/ssl/certs/ca-certificates.crt") { missing.append("ca-certificates") }
        let result = try sandbox.run("/bin/bash", [Repository.root + "/scripts/test-packages"], environment: ["PATH": stubs])
        #expect(result.status == 0, "\(result.stderr)")
        let list = missing.joined(separator: " ")
        #expect(result.stderr == "test-packages: installing \(list) with apt-get; if another apt holds the dpkg lock, waiting up to 600 s for it\n")
        let calls = try String(contentsOfFile: log, encoding: .utf8)
        #expect(calls == "-o DPkg::Lock::Timeout=600 update -qq\n-o DPkg::Lock::Timeout=600 install -y -qq \(list)\n")
    }

    @Test("the tests use swift-testing only, so scripts/test runs without XCTest's empty summaries")
    func oneTestFramework() throws {
        let tests = Repository.root + "/Tests"
        let files = try #require(FileManager.default.subpathsOfDirectory(atPath: tests).filter { $0.hasSuffix(".swift") } as [String]?)
        #expect(!files.isEmpty)
        for file in files {
            let text = try String(contentsOfFile: tests + "/" + file, encoding: .utf8)
            #expect(!text.contains("import " + "XCTest"), "\(file) uses XCTest, which scripts/test does not run")
        }
        let script = try String(contentsOfFile: Repository.root + "/scripts/test", encoding: .utf8)
        #expect(script.contains("\nswift test --disable-xctest \"$@\"\n"))
    }

    @Test("the benchmark's smoke run says it is one and prints only the checks it judges")
    func benchmarkSmokeRun() throws {
        let sandbox = try Sandbox()
        let bench = Binaries.directory + "/claude-agent-bench"
        let result = try sandbox.run(bench, ["--quick", "--only", "coalescing", "--bin", Binaries.directory,
                                             "--json", sandbox.root + "/bench.json"], timeout: 120)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("# claude-agent-bench (smoke run: behaviour checks only; the numbers are rough and not judged)\n"))
        let checks = try #require(result.stdout.range(of: "\n## Checks (a smoke run: "))
        let verdicts = result.stdout[checks.lowerBound...].split(separator: "\n").dropFirst(3).filter { !$0.hasPrefix("wrote ") && !$0.isEmpty }
        #expect(verdicts.count == 2, "\(verdicts)")
        #expect(verdicts.allSatisfy { $0.hasSuffix("  passed") }, "\(verdicts)")
        #expect(!result.stdout.contains("MISSED") && !result.stdout.contains("## Targets"))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: sandbox.root + "/bench.json"))) as? [String: Any])
        #expect(json["targets"] == nil)
        #expect((json["checks"] as? [Any])?.count == 2)
    }
}
