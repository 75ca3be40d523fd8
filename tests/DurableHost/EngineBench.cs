using System.Diagnostics;
using System.Globalization;
using AgentCrm.Core.Durable;
using AgentCrm.Core.Durable.Client;
using AgentCrm.Core.Durable.Runtime;
using AgentCrm.Core.Durable.Store;
using AgentCrm.Core.Platform.Data;
using AgentCrm.Functions;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace AgentCrm.DurableHost;

/// <summary>
/// The engine's figures on this machine, engine and PostgreSQL side by side (research/durable-engine.md
/// §7.5). Runs the real app's workers in this process against a fresh database and prints a table.
/// </summary>
internal static class EngineBench
{
    private const int ActionsPerSequence5 = 11; // start, 5 × (schedule + result)

    public static async Task<int> RunAsync(string[] args)
    {
        // --count N: instances per throughput scenario; --only engine|queues: just those rows.
        var count = Argument(args, "--count") is { } n ? int.Parse(n, CultureInfo.InvariantCulture) : 500;
        var only = Argument(args, "--only");
        // The schema owner: it may create the bench's database (the app's login may not) and migrate it.
        var server = Environment.GetEnvironmentVariable("Postgres__Owner") ?? Environment.GetEnvironmentVariable("Postgres__Pooled")
            ?? throw new InvalidOperationException("Postgres__Owner is not set");
        var database = await CreateDatabaseAsync(server);
        // The engine itself runs as the app's login, as in production (so row-level security is in the figures).
        var login = Environment.GetEnvironmentVariable("Postgres__Pooled") is { } pooled
            ? new NpgsqlConnectionStringBuilder(PostgresConnectionString.Parse(pooled).ConnectionString) { Database = "agentcrm_enginebench" }.ConnectionString
            : database;
        await using var app = AgentCrmApp.Build(["--urls", "http://127.0.0.1:0"], b =>
        {
            b.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Postgres:Pooled"] = login, ["Postgres:Direct"] = login, ["Postgres:Owner"] = database, ["Migrations:RunOnStart"] = "true",
                ["Logging:LogLevel:Default"] = "Warning",
            });
            b.Services.AddDurableFunctions(HostWorkflows.Register);
            HostQueues.Register(b);
        });
        await app.StartAsync();
        var client = app.Services.GetRequiredService<DurableClient>();
        var rows = new List<string[]>();
        if (only is null or "engine")
        {
            await AddEngineRowsAsync(app.Services, client, database, count, rows);
        }

        if (only is null or "queues")
        {
            await QueueBench.AddRowsAsync(app.Services, database, rows);
        }

        await app.StopAsync();
        Console.WriteLine("| metric | measured | target | |");
        Console.WriteLine("| --- | --- | --- | --- |");
        foreach (var row in rows)
        {
            Console.WriteLine($"| {string.Join(" | ", row)} |");
        }

        return 0;
    }

    private static string? Argument(string[] args, string name)
    {
        var at = Array.IndexOf(args, name);
        return at >= 0 && at + 1 < args.Length ? args[at + 1] : null;
    }

    private static async Task AddEngineRowsAsync(IServiceProvider services, DurableClient client, string database, int count, List<string[]> rows)
    {
        var start = await StartLatencyAsync(client, 30);
        rows.Add(["start latency (client start → first turn, idle)", $"p50 {start.P50:0.0} ms, p95 {start.P95:0.0} ms", "p95 ≤ 100 ms", Met(start.P95 <= 100)]);

        HostWorkflows.DispatchDelays.Clear();
        var queued = await ThroughputAsync(client, database, "Sequence5", count);
        rows.Add([$"5-activity sequence, queued ({count} instances)", $"{queued:0} orch/s ({queued * ActionsPerSequence5:0} actions/s)", "≥ 100 orch/s", Met(queued >= 100)]);
        var loaded = Percentiles(HostWorkflows.DispatchDelays.Select(d => d.TotalMilliseconds).ToList());
        HostWorkflows.DispatchDelays.Clear();
        for (var i = 0; i < 20; i++)
        {
            await client.WaitForCompletionAsync(await client.StartAsync("Sequence5", i), TimeSpan.FromSeconds(30));
        }

        var idle = Percentiles(HostWorkflows.DispatchDelays.Select(d => d.TotalMilliseconds).ToList());
        rows.Add(["queued dispatch latency (scheduled → activity starts), one instance at a time", $"p50 {idle.P50:0.0} ms, p99 {idle.P99:0.0} ms", "p50 ≤ 15 ms", Met(idle.P50 <= 15)]);
        rows.Add([$"the same while {count} instances run at once (queueing included)", $"p50 {loaded.P50:0.0} ms, p99 {loaded.P99:0.0} ms", "—", "—"]);

        var local = await ThroughputAsync(client, database, "Sequence5Local", count);
        rows.Add([$"5-activity sequence, local ({count} instances)", $"{local:0} orch/s ({local * ActionsPerSequence5:0} actions/s)", "≥ 250 orch/s", Met(local >= 250)]);

        var step = await StepOverheadAsync(client, 10, 50);
        rows.Add(["per-step overhead (local, warm instance)", $"p50 {step.P50:0.00} ms, p99 {step.P99:0.00} ms", "p50 ≤ 2 ms, p99 ≤ 10 ms", Met(step.P50 <= 2 && step.P99 <= 10)]);

        var fanOut = await FanOutAsync(client, 1000);
        rows.Add(["fan-out/fan-in of 1,000 activities", $"{fanOut:0.00} s", "≤ 5 s", Met(fanOut <= 5)]);

        var replay = await ColdReplayAsync(services, client, 3334);
        rows.Add([$"cold replay of a {replay.Events:N0}-event history (read + replay)", $"{replay.Millis:0} ms", "≤ 1 s", Met(replay.Millis <= 1000)]);
    }

    internal static string Met(bool met) => met ? "met" : "**not met**";

    private static async Task<(double P50, double P95)> StartLatencyAsync(DurableClient client, int samples)
    {
        var latencies = new List<double>();
        for (var i = 0; i < samples; i++)
        {
            var before = DateTime.UtcNow;
            var id = await client.StartAsync("Hello");
            var done = await client.WaitForCompletionAsync(id, TimeSpan.FromSeconds(30));
            latencies.Add((done.ReadOutput<DateTime>() - before).TotalMilliseconds);
            await Task.Delay(50); // idle between starts
        }

        var p = Percentiles(latencies);
        return (p.P50, p.P95);
    }

    private static async Task<double> ThroughputAsync(DurableClient client, string database, string name, int count)
    {
        var watch = Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 8 },
            async (i, ct) => await client.StartAsync(name, i, cancellationToken: ct));
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        while (true)
        {
            await using var command = new NpgsqlCommand("SELECT count(*) FROM dt.instances WHERE name = $1 AND status = 2", connection);
            command.Parameters.Add(new NpgsqlParameter { Value = name });
            if ((long)(await command.ExecuteScalarAsync())! >= count)
            {
                break;
            }

            await Task.Delay(20);
        }

        return count / watch.Elapsed.TotalSeconds;
    }

    private static async Task<(double P50, double P99)> StepOverheadAsync(DurableClient client, int instances, int steps)
    {
        var deltas = new List<double>();
        for (var i = 0; i < instances; i++)
        {
            var id = await client.StartAsync("LongLocal", steps);
            await client.WaitForCompletionAsync(id, TimeSpan.FromMinutes(2));
            var turns = (await client.GetHistoryAsync(id)).Where(e => e.Kind == EventKind.OrchestratorStarted).Select(e => e.Timestamp).ToList();
            deltas.AddRange(turns.Skip(2).Zip(turns.Skip(1), (b, a) => (b - a).TotalMilliseconds)); // skip the first (cold) step
        }

        var p = Percentiles(deltas);
        return (p.P50, p.P99);
    }

    private static async Task<double> FanOutAsync(DurableClient client, int width)
    {
        var id = await client.StartAsync("FanOut", width);
        var done = await client.WaitForCompletionAsync(id, TimeSpan.FromMinutes(2));
        return (done.CompletedAt!.Value - done.CreatedAt).TotalSeconds;
    }

    private static async Task<(int Events, double Millis)> ColdReplayAsync(IServiceProvider services, DurableClient client, int steps)
    {
        var id = await client.StartAsync("LongLocal", steps);
        var done = await client.WaitForCompletionAsync(id, TimeSpan.FromMinutes(5));
        var store = services.GetRequiredService<TaskHubStore>();
        var registry = services.GetRequiredService<DurableRegistry>();
        var times = new List<double>();
        var events = 0;
        for (var run = 0; run < 3; run++)
        {
            var watch = Stopwatch.StartNew();
            var history = await store.ReadHistoryAsync(id, done.ExecutionId, CancellationToken.None);
            // Everything but the final ExecutionCompleted: the state a worker rebuilds to continue it.
            var execution = new OrchestrationExecution(id, done.ExecutionId, registry.FindOrchestrator("LongLocal", "")!, registry.DefaultVersion, NullLoggerFactory.Instance);
            execution.Replay(history.Take(history.Count - 2).ToList());
            times.Add(watch.Elapsed.TotalMilliseconds);
            events = history.Count;
        }

        return (events, times.Order().ElementAt(1));
    }

    internal static (double P50, double P95, double P99) Percentiles(List<double> values)
    {
        if (values.Count == 0)
        {
            return (double.NaN, double.NaN, double.NaN);
        }

        var sorted = values.Order().ToList();
        double At(double q) => sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(q * sorted.Count) - 1)];
        return (At(0.50), At(0.95), At(0.99));
    }

    private static async Task<string> CreateDatabaseAsync(string server)
    {
        var admin = PostgresConnectionString.Parse(server);
        admin.Pooling = false;
        await using var connection = new NpgsqlConnection(admin.ConnectionString);
        await connection.OpenAsync();
        foreach (var sql in new[] { "DROP DATABASE IF EXISTS agentcrm_enginebench WITH (FORCE)", "CREATE DATABASE agentcrm_enginebench" })
        {
            await using var command = new NpgsqlCommand(sql, connection);
            await command.ExecuteNonQueryAsync();
        }

        return new NpgsqlConnectionStringBuilder(admin.ConnectionString) { Database = "agentcrm_enginebench", Pooling = true }.ConnectionString;
    }
}
