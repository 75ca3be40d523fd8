using System.Collections.Concurrent;
using AgentCrm.Core.Durable;
using AgentCrm.Core.Durable.Api;

namespace AgentCrm.DurableHost;

/// <summary>Small workflows with no-op activities: the engine's own cost is all there is to see.</summary>
public static class HostWorkflows
{
    /// <summary>Queue-to-start delays seen by Noop, for the dispatch-latency figure.</summary>
    public static readonly ConcurrentQueue<TimeSpan> DispatchDelays = new();

    public static readonly string[] AllVersions = ["1", "2"];

    public static void Register(DurableRegistry r) => Register(r, AllVersions);

    public static string[] ParseVersions(string? setting) =>
        setting is null ? AllVersions : setting.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    public static void Register(DurableRegistry r, IReadOnlyCollection<string> versions)
    {
        // "Versioned" in each version this build has: every step records which version and process scheduled it.
        // Reading the process id in orchestrator code is deliberate here: it only goes into an activity's
        // input, which replay does not compare, and the step's result (the tag) is what the output keeps.
        r.AddActivity<string, string>("Tag", async (ctx, tag) =>
        {
            await Task.Delay(50, ctx.CancellationToken);
            return tag!;
        });
        foreach (var version in versions)
        {
            r.AddOrchestrator<int, string[]>("Versioned", async (ctx, steps) =>
            {
                var tags = new List<string>();
                for (var i = 0; i < steps; i++)
                {
                    tags.Add(await ctx.CallActivityAsync<string>("Tag", $"v{version}@{Environment.ProcessId}"));
                }

                return [.. tags];
            }, version);
        }

        r.AddActivity<int, int>("Noop", (ctx, n) =>
        {
            DispatchDelays.Enqueue(DateTime.UtcNow - ctx.ScheduledAt);
            return Task.FromResult(n + 1);
        });
        r.AddOrchestrator<int, int>("Sequence5", (ctx, n) => Sequence(ctx, n, 5, DispatchMode.Queued));
        r.AddOrchestrator<int, int>("Sequence5Local", (ctx, n) => Sequence(ctx, n, 5, DispatchMode.Local));
        r.AddOrchestrator<int, int>("LongLocal", (ctx, steps) => Sequence(ctx, 0, steps, DispatchMode.Local));
        r.AddOrchestrator<int, int>("FanOut", async (ctx, n) =>
            (await Task.WhenAll(Enumerable.Range(0, n).Select(i => ctx.CallActivityAsync<int>("Noop", i)))).Sum());
        r.AddOrchestrator<int, DateTime>("Hello", (ctx, _) => Task.FromResult(ctx.CurrentUtcDateTime));
        r.AddActivity<int, int>("Sleep", async (ctx, ms) =>
        {
            await Task.Delay(ms, ctx.CancellationToken);
            return ms;
        });
        r.AddOrchestrator<int, int>("SlowSteps", async (ctx, ms) =>
        {
            for (var i = 0; i < 3; i++)
            {
                await ctx.CallActivityAsync<int>("Sleep", ms);
            }

            return ms;
        });
    }

    private static async Task<int> Sequence(TaskOrchestrationContext ctx, int n, int steps, DispatchMode dispatch)
    {
        var options = new TaskOptions { Dispatch = dispatch };
        for (var i = 0; i < steps; i++)
        {
            n = await ctx.CallActivityAsync<int>("Noop", n, options);
        }

        return n;
    }
}
