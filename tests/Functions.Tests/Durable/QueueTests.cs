using System.Collections.Concurrent;
using System.Diagnostics;
using AgentCrm.Core.Durable.Queues;
using AgentCrm.Functions.Tests.Infrastructure;

namespace AgentCrm.Functions.Tests.Durable;

/// <summary>Queue functions end to end: the app's consumers, real PostgreSQL, the QueueClient.</summary>
public class QueueTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    public sealed record Order(string Number, int Lines);

    [Fact]
    public async Task A_message_reaches_its_handler_with_its_id_and_payload_and_then_leaves_the_queue()
    {
        await using var db = await TestDatabase.CreateAsync(migrate: true);
        var seen = new TaskCompletionSource<(long Id, string Queue, string Payload, Order? Order, int DequeueCount, DateTime InsertedAt)>();
        await using var app = await StartAsync(db, s => s.AddQueueHandler("orders", ctx =>
        {
            seen.TrySetResult((ctx.MessageId, ctx.Queue, ctx.Payload, ctx.GetPayload<Order>(), ctx.DequeueCount, ctx.InsertedAt));
            return Task.CompletedTask;
        }));
        var before = DateTime.UtcNow;

        var sent = await app.Services.GetRequiredService<QueueClient>().EnqueueAsync("orders", new Order("A-1", 3));
        var got = await seen.Task.WaitAsync(Patience);

        Assert.False(sent.Duplicate);
        Assert.Equal(sent.MessageId, got.Id);
        Assert.Equal("orders", got.Queue);
        Assert.Equal("""{"number":"A-1","lines":3}""", got.Payload);
        Assert.Equal(new Order("A-1", 3), got.Order);
        Assert.Equal(1, got.DequeueCount);
        Assert.InRange(got.InsertedAt, before.AddSeconds(-5), DateTime.UtcNow);
        await Eventually.TrueAsync(async () => await db.ScalarAsync<long>("SELECT count(*) FROM dt.queue_messages") == 0, Patience);
    }

    [Fact]
    public async Task The_same_dedupe_key_while_the_message_is_queued_returns_its_id_and_the_handler_runs_once()
    {
        await using var db = await TestDatabase.CreateAsync(migrate: true);
        var calls = new ConcurrentQueue<long>();
        var started = new TaskCompletionSource();
        var release = new TaskCompletionSource();
        await using var app = await StartAsync(db, s => s.AddQueueHandler("dedupe", async ctx =>
        {
            calls.Enqueue(ctx.MessageId);
            started.TrySetResult();
            await release.Task;
        }));
        var client = app.Services.GetRequiredService<QueueClient>();
        var keyed = new QueueMessageOptions { DedupeKey = "invoice-7" };

        var first = await client.EnqueueAsync("dedupe", 1, keyed);
        await started.Task.WaitAsync(Patience);
        var second = await client.EnqueueAsync("dedupe", 2, keyed); // while the first is being handled
        release.SetResult();
        await Eventually.TrueAsync(async () => await db.ScalarAsync<long>("SELECT count(*) FROM dt.queue_messages") == 0, Patience);

        Assert.False(first.Duplicate);
        Assert.True(second.Duplicate);
        Assert.Equal(first.MessageId, second.MessageId);
        Assert.Equal([first.MessageId], calls);
        // Handled, the key is free again: a new message.
        var third = await client.EnqueueAsync("dedupe", 3, keyed);
        Assert.False(third.Duplicate);
        Assert.NotEqual(first.MessageId, third.MessageId);
        await Eventually.TrueAsync(() => calls.Count == 2, Patience);
    }

    [Fact]
    public async Task A_delayed_message_is_not_delivered_before_its_delay()
    {
        await using var db = await TestDatabase.CreateAsync(migrate: true);
        var delay = TimeSpan.FromSeconds(1.5);
        var started = new TaskCompletionSource<(long Ticks, DateTime At, DateTime InsertedAt)>();
        await using var app = await StartAsync(db, s => s.AddQueueHandler("later", ctx =>
        {
            started.TrySetResult((Stopwatch.GetTimestamp(), DateTime.UtcNow, ctx.InsertedAt));
            return Task.CompletedTask;
        }));
        var before = Stopwatch.GetTimestamp();

        await app.Services.GetRequiredService<QueueClient>().EnqueueAsync("later", "hello", new QueueMessageOptions { Delay = delay });
        var (ticks, at, insertedAt) = await started.Task.WaitAsync(Patience);

        Assert.True(at - insertedAt >= delay, $"delivered {(at - insertedAt).TotalMilliseconds:0} ms after it was enqueued with a delay of {delay.TotalMilliseconds} ms");
        var waited = Stopwatch.GetElapsedTime(before, ticks);
        Assert.True(waited < delay + TimeSpan.FromSeconds(3), $"delivered only after {waited.TotalMilliseconds:0} ms (delay {delay.TotalMilliseconds} ms)");
    }

    [Fact]
    public async Task No_more_handlers_of_a_queue_run_at_once_than_its_max_concurrency()
    {
        await using var db = await TestDatabase.CreateAsync(migrate: true);
        var running = 0;
        var most = 0;
        var done = 0;
        await using var app = await StartAsync(db, s => s.AddQueueHandler("limited", async ctx =>
        {
            var now = Interlocked.Increment(ref running);
            InterlockedMax(ref most, now);
            await Task.Delay(100, ctx.CancellationToken);
            Interlocked.Decrement(ref running);
            Interlocked.Increment(ref done);
        }, new QueueHandlerOptions { MaxConcurrency = 3, BatchSize = 16 }));

        await app.Services.GetRequiredService<QueueClient>().EnqueueManyAsync("limited", Enumerable.Range(0, 20).Cast<object?>());
        await Eventually.TrueAsync(() => Volatile.Read(ref done) == 20, Patience);

        Assert.Equal(3, most);
    }

    [Fact]
    public async Task Bad_names_and_payloads_are_refused_before_anything_is_stored()
    {
        await using var db = await TestDatabase.CreateAsync(migrate: true);
        await using var app = await TestApp.StartAsync(db, new() { ["Durable:MaxPayloadBytes"] = "1024" });
        var client = app.Services.GetRequiredService<QueueClient>();

        var big = await Assert.ThrowsAsync<ArgumentException>(() => client.EnqueueAsync("q", new string('x', 2000)));
        var empty = await Assert.ThrowsAsync<ArgumentException>(() => client.EnqueueAsync("", 1));
        var spaced = await Assert.ThrowsAsync<ArgumentException>(() => client.EnqueueAsync("has space", 1));
        var tooLong = await Assert.ThrowsAsync<ArgumentException>(() => client.EnqueueAsync(new string('q', 101), 1));
        var malformed = await Assert.ThrowsAsync<ArgumentException>(() => client.EnqueueJsonAsync("q", "{not json"));
        var keyed = await Assert.ThrowsAsync<ArgumentException>(() => client.EnqueueManyAsync("q", [1, 2], new QueueMessageOptions { DedupeKey = "k" }));

        Assert.StartsWith("The payload is 2002 bytes; the limit is 1024", big.Message, StringComparison.Ordinal);
        Assert.StartsWith("Cannot enqueue: a queue name must not be empty", empty.Message, StringComparison.Ordinal);
        Assert.StartsWith("Cannot enqueue: queue name 'has space' may hold only ASCII letters, digits and - _ . :", spaced.Message, StringComparison.Ordinal);
        Assert.StartsWith("Cannot enqueue: a queue name is at most 100 characters (this one has 101)", tooLong.Message, StringComparison.Ordinal);
        Assert.StartsWith("The payload is not well-formed JSON", malformed.Message, StringComparison.Ordinal);
        Assert.StartsWith("A batch cannot carry a dedupe key", keyed.Message, StringComparison.Ordinal);
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM dt.queue_messages"));
        // A queue no handler here serves is accepted: another build sharing the task hub may serve it.
        Assert.False((await client.EnqueueAsync("served-elsewhere", 1)).Duplicate);
    }

    [Fact]
    public async Task A_handler_with_invalid_options_stops_the_app_at_start_with_one_message_naming_every_problem()
    {
        await using var db = await TestDatabase.CreateAsync(migrate: true);

        var error = await Assert.ThrowsAsync<ArgumentException>(() => StartAsync(db, s => s.AddQueueHandler("bad", _ => Task.CompletedTask,
            new QueueHandlerOptions { BatchSize = 0, VisibilityTimeout = TimeSpan.FromMilliseconds(500), MaxDequeueCount = 0 })));
        var twice = Assert.Throws<ArgumentException>(() => new ServiceCollection()
            .AddQueueHandler("once", _ => Task.CompletedTask)
            .AddQueueHandler("once", _ => Task.CompletedTask));

        Assert.StartsWith("Queue handler 'bad' cannot be registered: BatchSize must be 1–500 (was 0); VisibilityTimeout must be 1 s–12 h (was 00:00:00.5000000); MaxDequeueCount must be 1–1000 (was 0).", error.Message, StringComparison.Ordinal);
        Assert.StartsWith("Queue handler 'once' cannot be registered: a handler is already registered for it.", twice.Message, StringComparison.Ordinal);
    }

    internal static Task<TestApp> StartAsync(TestDatabase db, Action<IServiceCollection> handlers, Dictionary<string, string?>? settings = null)
    {
        var values = new Dictionary<string, string?> { ["Durable:PollMaxMs"] = "250" };
        foreach (var (key, value) in settings ?? [])
        {
            values[key] = value;
        }

        return TestApp.StartAsync(db, values, configure: b => handlers(b.Services));
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int current;
        while (value > (current = Volatile.Read(ref target)) && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }
}
