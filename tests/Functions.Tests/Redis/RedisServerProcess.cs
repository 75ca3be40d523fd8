using System.Diagnostics;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;

namespace AgentCrm.Functions.Tests.Redis;

/// <summary>
/// A redis-server of a test's own (Debian's binary, which scripts/servers installs), on a free loopback
/// port with a password and no persistence, so a test can SIGKILL and restart it without touching the
/// server every other test shares.
/// </summary>
public sealed class RedisServerProcess : IAsyncDisposable
{
    private readonly string _directory;
    private Process? _process;

    private readonly string[] _extraArgs;

    private RedisServerProcess(int port, string directory, string[] extraArgs)
    {
        Port = port;
        _directory = directory;
        _extraArgs = extraArgs;
    }

    public int Port { get; }

    public string Password { get; } = Guid.NewGuid().ToString("N");

    public string Url => $"redis://:{Password}@127.0.0.1:{Port}";

    public string Directory => _directory;

    /// <summary>With <paramref name="tls"/>, the server speaks TLS only, with a certificate for "localhost" issued by <see cref="CertificateAuthority"/>.</summary>
    public static async Task<RedisServerProcess> StartAsync(bool tls = false)
    {
        var port = Infrastructure.AppProcess.FreePort();
        var directory = System.IO.Directory.CreateTempSubdirectory("agentcrm-redis-").FullName;
        X509Certificate2? authority = null;
        string[] args = [];
        if (tls)
        {
            authority = TestCertificates.WriteServerCertificate(directory, "localhost", out var certFile, out var keyFile);
            args = ["--port", "0", "--tls-port", port.ToString(), "--tls-cert-file", certFile, "--tls-key-file", keyFile, "--tls-auth-clients", "no"];
        }

        var server = new RedisServerProcess(port, directory, args) { CertificateAuthority = authority };
        await server.RestartAsync();
        return server;
    }

    public X509Certificate2? CertificateAuthority { get; private init; }

    /// <summary>Starts the server (again) on the same port and waits until it accepts connections.</summary>
    public async Task RestartAsync()
    {
        var info = new ProcessStartInfo("redis-server") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        string[] listen = _extraArgs.Length > 0 ? [] : ["--port", Port.ToString()];
        foreach (var arg in listen.Concat(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--requirepass", Password, "--dir", _directory]).Concat(_extraArgs))
        {
            info.ArgumentList.Add(arg);
        }

        _process = Process.Start(info)!;
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (true)
        {
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync("127.0.0.1", Port, deadline.Token);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(10, deadline.Token);
            }
        }
    }

    /// <summary>SIGKILL, as a crashed or failed-over server: connections drop with no goodbye.</summary>
    public async Task KillAsync()
    {
        if (_process is { HasExited: false } process)
        {
            process.Kill();
            await process.WaitForExitAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _process?.Dispose();
        CertificateAuthority?.Dispose();
        System.IO.Directory.Delete(_directory, recursive: true);
    }
}
