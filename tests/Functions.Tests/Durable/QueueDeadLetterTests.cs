using System.Collections.Concurrent;
using System.Text.Json;
using AgentCrm.Core.Durable.Queues;
using AgentCrm.Core.Durable.Store;
using AgentCrm.Functions.Tests.Infrastructure;

namespace AgentCrm.Functions.Tests.Durable;

/// <summary>Poison messages: retried, then dead-lettered without blocking their queue; replayed, discarded, and kept per workspace.</summary>
public class QueueDeadLetterTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_message_whose_handler_always_throws_is_tried_max_dequeue_count_times_then_dead_lettered_while_the_rest_flow()
    {
        await using var db = await TestDatabase.CreateAsync(migrate: true);
        var badCalls = 0;
        var goodDone = new ConcurrentQueue<int>();
        var badCallsWhenGoodDone = -1;
        await using var app = await QueueTests.StartAsync(db, s => s.AddQueueHandler("mixed", ctx =>
        {
            var n = ctx.GetPayload<int>();
            if (n < 0)
            {
                Interlocked.Increment(ref badCalls);
                throw new InvalidOperationException($"cannot handle {n}");
            }

            goodDone.Enqueue(n);
            if (goodDone.Count == 5)
            {
                badCallsWhenGoodDone = Volatile.Read(ref badCalls);
            }

            return Task.CompletedTask;
        }, new QueueHandlerOptions { MaxDequeueCount = 3, MaxConcurrency = 1, BatchSize = 1, RetryDelay = TimeSpan.FromMilliseconds(300) }));
        var client = app.Services.GetRequiredService<QueueClient>();
        var store = app.Services.GetRequiredService<DeadLetterStore>();

        var poison = await client.EnqueueAsync("mixed", -1, new QueueMessageOptions { Scope = "ws-1" });
        await client.EnqueueManyAsync("mixed", [1, 2, 3, 4, 5]);
        DeadLetter? letter = null;
        await Eventually.TrueAsync(async () => (letter = (await store.ListAsync(null, "queue", "mixed", 10, null)).SingleOrDefault()) is not null, Patience);

        Assert.Equal(3, Volatile.Read(ref badCalls));
        Assert.Equal([1, 2, 3, 4, 5], goodDone.Order());
        Assert.InRange(badCallsWhenGoodDone, 1, 2); // the good ones went through while the poison waited between its attempts
        var full = await store.GetAsync(letter!.Id, null);
        Assert.NotNull(full);
        Assert.Equal(("queue", "mixed", "mixed", poison.MessageId, 3, "ws-1", "-1"), (full.Source, full.Name, full.Queue, full.MessageId, full.DequeueCount, full.Scope, full.Payload));
        Assert.Null(letter.Payload); // lists leave payloads out
        var lastError = JsonDocument.Parse(full.Detail).RootElement.GetProperty("lastError");
        Assert.Equal("System.InvalidOperationException", lastError.GetProperty("errorType").GetString());
        Assert.Equal("cannot handle -1", lastError.GetProperty("errorMessage").GetString());
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM dt.queue_messages"));
    }

    [Fact]
    public async Task A_replayed_dead_letter_is_delivered_again_and_leaves_the_store_and_a_discarded_one_is_gone()
    {
        await using var db = await TestDatabase.CreateAsync(migrate: true);
        var failing = true;
        var handled = new ConcurrentDictionary<long, (string Payload, int DequeueCount)>();
        await using var app = await QueueTests.StartAsync(db, s => s.AddQueueHandler("flaky", ctx =>
        {
            if (Volatile.Read(ref failing))
            {
                throw new TimeoutException("downstream is down");
            }

            handled[ctx.MessageId] = (ctx.Payload, ctx.DequeueCount);
            return Task.CompletedTask;
        }, new QueueHandlerOptions { MaxDequeueCount = 2, RetryDelay = TimeSpan.FromMilliseconds(50) }));
        var client = app.Services.GetRequiredService<QueueClient>();
        var store = app.Services.GetRequiredService<DeadLetterStore>();
        await client.EnqueueAsync("flaky", "replay me");
        await client.EnqueueAsync("flaky", "discard me");
        IReadOnlyList<DeadLetter> letters = [];
        await Eventually.TrueAsync(async () => (letters = await store.ListAsync(null, null, "flaky", 10, null)).Count == 2, Patience);
        var replay = letters.Single(l => l.MessageId == letters.Min(x => x.MessageId));
        var discard = letters.Single(l => l != replay);

        Volatile.Write(ref failing, false);
        var replayed = await store.ReplayAsync(replay.Id, null);
        var again = await store.ReplayAsync(replay.Id, null);
        var discarded = await store.DiscardAsync(discard.Id, null);

        Assert.Equal(ReplayOutcome.Replayed, replayed.Outcome);
        Assert.NotEqual(replay.MessageId, replayed.MessageId);
        Assert.Equal(ReplayOutcome.NotFound, again.Outcome);
        Assert.True(discarded);
        Assert.False(await store.DiscardAsync(discard.Id, null));
        await Eventually.TrueAsync(() => handled.ContainsKey(replayed.MessageId!.Value), Patience);
        Assert.Equal(("\"replay me\"", 1), handled[replayed.MessageId!.Value]);
        Assert.Single(handled);
        Assert.Empty(await store.ListAsync(null, null, null, 10, null));
        await Eventually.TrueAsync(async () => await db.ScalarAsync<long>("SELECT count(*) FROM dt.queue_messages") == 0, Patience);
    }

    [Fact]
    public async Task A_task_dead_letter_is_not_replayed_as_a_queue_message()
    {
        await using var db = await TestDatabase.CreateAsync(migrate: true);
        await using var app = await TestApp.StartAsync(db);
        var store = app.Services.GetRequiredService<DeadLetterStore>();
        var id = await db.ScalarAsync<long>("INSERT INTO dt.dead_letters (source, instance_id, name, detail) VALUES ('task', 'i-1', 'Charge', '{}') RETURNING id");

        var result = await store.ReplayAsync(id, null);

        Assert.Equal(ReplayOutcome.NotAQueueMessage, result.Outcome);
        Assert.Equal("task", (await store.GetAsync(id, null))!.Source);
    }

    [Fact]
    public async Task A_workspace_cannot_see_replay_or_discard_another_workspaces_dead_letters()
    {
        await using var db = await TestDatabase.CreateAsync(migrate: true);
        await using var app = await QueueTests.StartAsync(db, s => s.AddQueueHandler("scoped",
            _ => throw new InvalidOperationException("poison"), new QueueHandlerOptions { MaxDequeueCount = 1 }));
        var client = app.Services.GetRequiredService<QueueClient>();
        var store = app.Services.GetRequiredService<DeadLetterStore>();
        await client.EnqueueAsync("scoped", "a", new QueueMessageOptions { Scope = "ws-a" });
        await client.EnqueueAsync("scoped", "b", new QueueMessageOptions { Scope = "ws-b" });
        await Eventually.TrueAsync(async () => (await store.ListAsync(null, null, null, 10, null)).Count == 2, Patience);
        var ofA = Assert.Single(await store.ListAsync("ws-a", null, null, 10, null));
        var ofB = Assert.Single(await store.ListAsync("ws-b", null, null, 10, null));

        Assert.Equal("ws-a", ofA.Scope);
        Assert.Null(await store.GetAsync(ofB.Id, "ws-a"));
        Assert.Equal(ReplayOutcome.NotFound, (await store.ReplayAsync(ofB.Id, "ws-a")).Outcome);
        Assert.False(await store.DiscardAsync(ofB.Id, "ws-a"));
        Assert.Equal("\"b\"", (await store.GetAsync(ofB.Id, "ws-b"))!.Payload);
        Assert.True(await store.DiscardAsync(ofB.Id, "ws-b"));
        Assert.Equal([ofA.Id], (await store.ListAsync(null, null, null, 10, null)).Select(l => l.Id));
    }
}
