using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Text.Json;
using AgentCrm.Core.Durable.Queues;
using AgentCrm.Core.Platform.Observability;
using AgentCrm.Functions.Tests.Infrastructure;

namespace AgentCrm.Functions.Tests.Durable;

/// <summary>What operators see of queues: the health detail and the gauges on the app's meter.</summary>
public class QueueHealthTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Health_detail_shows_each_queue_and_turns_degraded_when_a_ready_message_waits_too_long()
    {
        await using var db = await TestDatabase.CreateAsync(migrate: true);
        await using var app = await QueueTests.StartAsync(db, s => s.AddQueueHandler("served", _ => Task.CompletedTask),
            new() { ["Durable:QueueAgeDegradedSeconds"] = "1" });
        var client = app.Services.GetRequiredService<QueueClient>();
        await client.EnqueueAsync("unserved", 1);
        await client.EnqueueAsync("unserved", 2, new QueueMessageOptions { Delay = TimeSpan.FromHours(1) });

        JsonElement queues = default;
        await Eventually.TrueAsync(async () =>
        {
            var detail = await HttpAssert.JsonAsync(await app.Client.GetAsync("/api/health"), System.Net.HttpStatusCode.OK);
            queues = detail.GetProperty("checks").GetProperty("queues");
            return queues.GetProperty("status").GetString() == "Degraded";
        }, Patience);

        Assert.Contains("unserved", queues.GetProperty("description").GetString(), StringComparison.Ordinal);
        var unserved = queues.GetProperty("data").GetProperty("unserved");
        Assert.Equal(1, unserved.GetProperty("visible").GetInt64());
        Assert.Equal(1, unserved.GetProperty("delayed").GetInt64());
        Assert.True(unserved.GetProperty("oldestVisibleAgeSeconds").GetDouble() > 1);
        Assert.Equal(0, queues.GetProperty("data").GetProperty("served").GetProperty("visible").GetInt64());
    }

    [Fact]
    public async Task The_depth_gauge_reports_each_queues_messages_by_state()
    {
        await using var db = await TestDatabase.CreateAsync(migrate: true);
        await using var app = await QueueTests.StartAsync(db, _ => { });
        var queue = "gauged-" + Guid.NewGuid().ToString("N")[..8]; // other apps of this test run report on the same meter
        var depth = new ConcurrentDictionary<string, long>(StringComparer.Ordinal);
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == Telemetry.Name && instrument.Name == "agentcrm.queue.depth")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            var of = tags.ToArray();
            if (of.Any(t => t.Key == "queue" && (string?)t.Value == queue))
            {
                depth[(string)of.Single(t => t.Key == "state").Value!] = value;
            }
        });
        listener.Start();

        await app.Services.GetRequiredService<QueueClient>().EnqueueManyAsync(queue, [1, 2], new QueueMessageOptions { Delay = TimeSpan.FromHours(1) });
        await Eventually.TrueAsync(() =>
        {
            listener.RecordObservableInstruments(); // the first collection starts a read; a later one reports it
            return depth.GetValueOrDefault("delayed") == 2;
        }, Patience);

        Assert.Equal(0, depth["visible"]);
        Assert.Equal(0, depth["in_flight"]);
    }
}
