using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using AgentCrm.Tests.Support;

namespace AgentCrm.Functions.Tests.Infrastructure;

/// <summary>
/// The built app as a real process (`dotnet AgentCrm.Functions.dll ...`), for what only a process shows:
/// exit codes, stdout logs, signals. Output lines are collected and can be awaited.
/// </summary>
public sealed partial class AppProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _stdout = new();
    private readonly ConcurrentQueue<string> _stderr = new();
    private readonly SemaphoreSlim _lineArrived = new(0);

    private AppProcess(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, e) => Collect(_stdout, e.Data);
        process.ErrorDataReceived += (_, e) => Collect(_stderr, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public IReadOnlyList<string> Stdout => [.. _stdout];

    public IReadOnlyList<string> Stderr => [.. _stderr];

    public string AllOutput => string.Join('\n', Stdout.Concat(Stderr));

    /// <summary>The configuration these tests were built in; the app's build of the same is what they run.</summary>
    public static string BuildConfiguration { get; } = AppContext.BaseDirectory.Contains("/Release/", StringComparison.Ordinal) ? "Release" : "Debug";

    public static string BuiltDll { get; } = RepoPaths.Path("src", "Functions", "bin", BuildConfiguration, "net10.0", "AgentCrm.Functions.dll");

    public static AppProcess Start(IDictionary<string, string?> environment, string? workingDirectory = null, string? dll = null, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? AppContext.BaseDirectory,
        };
        info.ArgumentList.Add(dll ?? BuiltDll);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        // The test says which database the process uses; none is inherited from the shell scripts/test ran in.
        foreach (var inherited in info.Environment.Keys.Where(k => k.StartsWith("Postgres__", StringComparison.Ordinal)).ToList())
        {
            info.Environment.Remove(inherited);
        }

        info.Environment["Auth__SigningKey"] = TestSecrets.SigningKey;
        // As in TestApp: keys of its own on the shared Redis, and no limits unless the test asks for them.
        info.Environment["Redis__KeyPrefix"] = $"test:{Guid.NewGuid():N}:";
        info.Environment["RateLimits__Enabled"] = "false";
        info.Environment["Quotas__Enabled"] = "false";
        foreach (var (key, value) in environment)
        {
            if (value is null)
            {
                info.Environment.Remove(key);
            }
            else
            {
                info.Environment[key] = value;
            }
        }

        return new AppProcess(Process.Start(info)!);
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async Task<string> WaitForLineAsync(Func<string, bool> match, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        while (true)
        {
            var found = Stdout.Concat(Stderr).FirstOrDefault(match);
            if (found is not null)
            {
                return found;
            }

            if (_process.HasExited)
            {
                await _process.WaitForExitAsync(cts.Token); // drain the output
                return Stdout.Concat(Stderr).FirstOrDefault(match)
                    ?? throw new InvalidOperationException($"Process exited ({_process.ExitCode}) before the expected line. Output:\n{AllOutput}");
            }

            try
            {
                await _lineArrived.WaitAsync(TimeSpan.FromMilliseconds(200), cts.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"No matching line within {timeout}. Output:\n{AllOutput}");
            }
        }
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
        return _process.ExitCode;
    }

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>What the Functions host does on shutdown and slot swap: SIGKILL, no chance to clean up.</summary>
    public void KillHard()
    {
        _process.Kill();
        _process.WaitForExit();
    }

    public static string DurableHostDll { get; } = RepoPaths.Path("tests", "DurableHost", "bin", BuildConfiguration, "net10.0", "AgentCrm.DurableHost.dll");

    /// <summary>What the platform sends on a graceful stop (the Functions host itself uses SIGKILL).</summary>
    public void SendSigterm() => Assert.Equal(0, Kill(_process.Id, 15));

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        _lineArrived.Dispose();
    }

    private void Collect(ConcurrentQueue<string> queue, string? line)
    {
        if (line is null)
        {
            return;
        }

        queue.Enqueue(line);
        _lineArrived.Release();
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
