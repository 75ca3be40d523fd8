using System.Diagnostics;
using AgentCrm.Core.Durable.Queues;
using Npgsql;

namespace AgentCrm.DurableHost;

/// <summary>Queue functions' rows of the engine bench: throughput with a no-op handler, and enqueue → handler start latency.</summary>
internal static class QueueBench
{
    public static async Task AddRowsAsync(IServiceProvider services, string database, List<string[]> rows)
    {
        var client = services.GetRequiredService<QueueClient>();
        const int Messages = 5000;
        var rate = await ThroughputAsync(client, database, Messages, batch: 100);
        rows.Add([$"queue throughput, no-op handler ({Messages:N0} messages enqueued in batches of 100)", $"{rate:0} messages/s", "—", "—"]);

        var latency = await LatencyAsync(client, 100);
        rows.Add(["queue latency (enqueue → handler starts), one message at a time", $"p50 {latency.P50:0.0} ms, p99 {latency.P99:0.0} ms", "p50 ≤ 15 ms", EngineBench.Met(latency.P50 <= 15)]);
    }

    private static async Task<double> ThroughputAsync(QueueClient client, string database, int count, int batch)
    {
        HostQueues.NoopStarts.Clear();
        var watch = Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(0, count / batch), new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (b, ct) =>
            await client.EnqueueManyAsync(HostQueues.Noop, Enumerable.Range(b * batch, batch).Cast<object?>(), cancellationToken: ct));
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        while (true)
        {
            // Handled means deleted: count what is left rather than the handler's starts.
            await using var command = new NpgsqlCommand("SELECT count(*) FROM dt.queue_messages WHERE queue = $1", connection);
            command.Parameters.Add(new NpgsqlParameter { Value = HostQueues.Noop });
            if ((long)(await command.ExecuteScalarAsync())! == 0 && HostQueues.NoopStarts.Count >= count)
            {
                break;
            }

            await Task.Delay(10);
        }

        return count / watch.Elapsed.TotalSeconds;
    }

    private static async Task<(double P50, double P99)> LatencyAsync(QueueClient client, int samples)
    {
        var latencies = new List<double>();
        for (var i = 0; i < samples; i++)
        {
            var before = Stopwatch.GetTimestamp();
            var sent = await client.EnqueueAsync(HostQueues.Noop, i);
            long started;
            while (!HostQueues.NoopStarts.TryGetValue(sent.MessageId, out started))
            {
                await Task.Delay(1); // the handler stamps its own start: this wait's granularity does not count
            }

            latencies.Add(Stopwatch.GetElapsedTime(before, started).TotalMilliseconds);
            await Task.Delay(50); // idle between messages, so each one wakes a sleeping poller
        }

        var p = EngineBench.Percentiles(latencies);
        return (p.P50, p.P99);
    }
}
