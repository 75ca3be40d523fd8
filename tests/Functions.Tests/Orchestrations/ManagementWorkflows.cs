using System.Collections.Concurrent;
using AgentCrm.Core.Durable;
using AgentCrm.Core.Durable.Api;

namespace AgentCrm.Functions.Tests.Orchestrations;

/// <summary>Workflows for the management API: a gate that fails until a test opens it, and counts of activity runs.</summary>
public static class ManagementWorkflows
{
    /// <summary>Keys (the orchestration's input) whose gate is open; closed gates fail.</summary>
    public static readonly ConcurrentDictionary<string, bool> OpenGates = new();

    /// <summary>How often "Counted" ran, per key.</summary>
    public static readonly ConcurrentDictionary<string, int> Runs = new();

    /// <summary>Queue messages (their payload is a key) handled so far.</summary>
    public static readonly ConcurrentDictionary<string, long> Handled = new();

    /// <summary>A queue handler that fails while the message's gate is closed.</summary>
    public static Task HandleGatedMessage(Core.Durable.Queues.QueueMessageContext message)
    {
        var key = message.GetPayload<string>()!;
        if (!OpenGates.ContainsKey(key))
        {
            throw new InvalidOperationException($"gate {key} is closed");
        }

        Handled[key] = message.MessageId;
        return Task.CompletedTask;
    }

    public static void Register(DurableRegistry r)
    {
        r.AddActivity<string, string>("Counted", (_, key) =>
        {
            Runs.AddOrUpdate(key!, 1, (_, n) => n + 1);
            return Task.FromResult(key + ":counted");
        });
        r.AddActivity<string, string>("Gate", (_, key) =>
            OpenGates.ContainsKey(key!) ? Task.FromResult(key + ":open") : throw new InvalidOperationException($"gate {key} is closed"));

        // Counted once, then the gate with a retry policy (kept in history for a rewind), then an event.
        r.AddOrchestrator<string, string>("Rewindable", async (ctx, key) =>
        {
            var counted = await ctx.CallActivityAsync<string>("Counted", key);
            var retry = new TaskOptions { Retry = new RetryPolicy(2, TimeSpan.FromMilliseconds(10)) };
            var gate = await ctx.CallActivityAsync<string>("Gate", key, retry);
            return $"{counted}|{gate}";
        });
        // Fails in its very first turn while the gate is closed (a bug fixed by a deploy, say).
        r.AddOrchestrator<string, string>("FailsAtStart", (ctx, key) =>
            OpenGates.ContainsKey(key!) ? Task.FromResult(key + ":started") : throw new InvalidOperationException($"gate {key} is closed"));
        // Fails while a timer is still pending: a rewind must arm the timer again.
        r.AddOrchestrator<string, string>("TimerAndGate", async (ctx, key) =>
        {
            var timer = ctx.CreateTimer(TimeSpan.FromSeconds(1));
            var gate = await ctx.CallActivityAsync<string>("Gate", key);
            await timer;
            return gate + "|timer";
        });
        r.AddOrchestrator<string, string>("RewindableParent", async (ctx, key) =>
            "parent(" + await ctx.CallSubOrchestratorAsync<string>("Rewindable", key) + ")");
    }
}
