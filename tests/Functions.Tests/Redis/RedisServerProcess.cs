using System.Diagnostics;
using System.Net.Sockets;

namespace AgentCrm.Functions.Tests.Redis;

/// <summary>
/// A redis-server of a test's own (Debian's binary, which scripts/servers installs), on a free loopback
/// port with a password and no persistence, so a test can SIGKILL and restart it without touching the
/// server every other test shares.
/// </summary>
public sealed class RedisServerProcess : IAsyncDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("agentcrm-redis-").FullName;
    private Process? _process;

    private RedisServerProcess(int port)
    {
        Port = port;
    }

    public int Port { get; }

    public string Password { get; } = Guid.NewGuid().ToString("N");

    public string Url => $"redis://:{Password}@127.0.0.1:{Port}";

    public static async Task<RedisServerProcess> StartAsync()
    {
        var server = new RedisServerProcess(Infrastructure.AppProcess.FreePort());
        await server.RestartAsync();
        return server;
    }

    /// <summary>Starts the server (again) on the same port and waits until it accepts connections.</summary>
    public async Task RestartAsync()
    {
        var info = new ProcessStartInfo("redis-server") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { "--port", Port.ToString(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--requirepass", Password, "--dir", _directory })
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
        Directory.Delete(_directory, recursive: true);
    }
}
