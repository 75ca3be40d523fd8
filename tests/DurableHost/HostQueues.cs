using System.Collections.Concurrent;
using System.Diagnostics;
using AgentCrm.Core.Durable.Queues;

namespace AgentCrm.DurableHost;

/// <summary>Queue handlers of the worker process: a no-op for the benchmark and one the chaos test kills mid-delivery.</summary>
public static class HostQueues
{
    public const string Noop = "bench-noop";
    public const string Crash = "chaos-crash";

    /// <summary>Stopwatch ticks at which each Noop delivery started, by message id, for the enqueue-to-start latency.</summary>
    public static readonly ConcurrentDictionary<long, long> NoopStarts = new();

    public static void Register(WebApplicationBuilder builder)
    {
        builder.Services.AddQueueHandler(Noop, ctx =>
        {
            NoopStarts[ctx.MessageId] = Stopwatch.GetTimestamp();
            return Task.CompletedTask;
        }, new QueueHandlerOptions { BatchSize = 64, MaxConcurrency = 64 });

        // QueueChaos__SignalDir: where each delivery leaves "<message id>.<dequeue count>.<pid>", so the test
        // sees it started here. The first delivery then hangs until the test kills this process.
        var signals = builder.Configuration["QueueChaos:SignalDir"];
        var visibility = int.Parse(builder.Configuration["QueueChaos:VisibilitySeconds"] ?? "30", System.Globalization.CultureInfo.InvariantCulture);
        builder.Services.AddQueueHandler(Crash, async ctx =>
        {
            if (signals is not null)
            {
                await File.WriteAllTextAsync(Path.Combine(signals, $"{ctx.MessageId}.{ctx.DequeueCount}.{Environment.ProcessId}"), ctx.Payload, ctx.CancellationToken);
            }

            if (ctx.DequeueCount == 1)
            {
                await Task.Delay(Timeout.Infinite, ctx.CancellationToken);
            }
        }, new QueueHandlerOptions { VisibilityTimeout = TimeSpan.FromSeconds(visibility) });
    }
}
