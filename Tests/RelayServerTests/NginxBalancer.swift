import Foundation
import TestSupport

/// Debian's nginx on a free loopback port in front of relay nodes, as `docker/nginx.conf` proxies them (the same
/// forwarded headers, so the nodes see the balancer's origin): the first node serves, the others stand by and take
/// over when it dies.
final class NginxBalancer: @unchecked Sendable {
    let port: Int
    private let process = Process()
    private let directory: URL

    var url: String { "http://127.0.0.1:\(port)" }

    init(primary: Int, backups: [Int]) throws {
        port = try FreePort.next()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("chatrelay-nginx-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("logs"), withIntermediateDirectories: true)
        ChildProcesses.scratch(directory)
        let servers = (["server 127.0.0.1:\(primary) max_fails=1 fail_timeout=30s;"] + backups.map { "server 127.0.0.1:\($0) backup;" })
        try """
        events {}
        http {
            access_log off;
            upstream relay { \(servers.joined(separator: " ")) }
            map $http_upgrade $connection_upgrade { default upgrade; '' close; }
            server {
                listen 127.0.0.1:\(port);
                location / {
                    proxy_pass http://relay;
                    proxy_http_version 1.1;
                    proxy_set_header Upgrade $http_upgrade;
                    proxy_set_header Connection $connection_upgrade;
                    proxy_set_header Host $http_host;
                    proxy_set_header X-Forwarded-Host $http_host;
                    proxy_set_header X-Forwarded-Proto $scheme;
                    proxy_read_timeout 1h;
                    proxy_next_upstream error timeout http_503;
                }
            }
        }
        """.write(to: directory.appendingPathComponent("nginx.conf"), atomically: true, encoding: .utf8)
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/nginx")
        process.arguments = [
            "-p", directory.path, "-c", directory.appendingPathComponent("nginx.conf").path,
            "-g", "daemon off; master_process off; pid \(directory.path)/nginx.pid; error_log \(directory.path)/logs/error.log;",
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        ChildProcesses.started(process.processIdentifier)
    }

    deinit { stop() }

    func stop() {
        ChildProcesses.killAndWait(process.processIdentifier)
        ChildProcesses.discarded(directory)
    }
}
