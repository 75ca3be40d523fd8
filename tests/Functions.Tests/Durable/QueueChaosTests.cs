using System.Diagnostics;
using AgentCrm.Core.Durable;
using AgentCrm.Core.Durable.Queues;
using AgentCrm.Core.Durable.Workers;
using AgentCrm.Core.Platform.Configuration;
using AgentCrm.DurableHost;
using AgentCrm.Functions.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit.Abstractions;

namespace AgentCrm.Functions.Tests.Durable;

/// <summary>At least once across a SIGKILL: the message a killed worker was handling is delivered again, elsewhere, once its lease lapses.</summary>
public class QueueChaosTests(ITestOutputHelper output)
{
    private const int VisibilitySeconds = 5;

    [Fact]
    public async Task A_message_whose_worker_is_killed_mid_handler_is_redelivered_to_another_worker_with_dequeue_count_two()
    {
        await using var db = await TestDatabase.CreateAsync(migrate: true);
        await using var sources = db.DataSources();
        var signals = Directory.CreateTempSubdirectory("queue-chaos-");
        try
        {
            var client = new QueueClient(new QueueStore(sources), DurableOptions.Read(new SettingsReader(new ConfigurationBuilder().Build())),
                new DurableWakeUps(sources, NullLogger<DurableWakeUps>.Instance));
            await using var first = StartWorker(db, signals.FullName);
            var sent = await client.EnqueueAsync(HostQueues.Crash, "crash me");
            await Eventually.TrueAsync(() => File.Exists(Path.Combine(signals.FullName, $"{sent.MessageId}.1.{first.Pid}")));

            first.KillHard();
            var killedAt = Stopwatch.GetTimestamp();
            await using var second = StartWorker(db, signals.FullName);
            var redelivered = Path.Combine(signals.FullName, $"{sent.MessageId}.2.{second.Pid}");
            await Eventually.TrueAsync(() => File.Exists(redelivered));
            var seconds = Stopwatch.GetElapsedTime(killedAt).TotalSeconds;
            await Eventually.TrueAsync(async () => await db.ScalarAsync<long>("SELECT count(*) FROM dt.queue_messages") == 0);
            output.WriteLine($"redelivered {seconds:0.00} s after SIGKILL (visibility timeout {VisibilitySeconds} s)");

            Assert.Equal("\"crash me\"", await File.ReadAllTextAsync(redelivered));
            Assert.Equal(2, Directory.GetFiles(signals.FullName).Length); // one delivery each, no third
            Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM dt.dead_letters"));
            Assert.True(seconds <= VisibilitySeconds + 10, $"redelivery took {seconds:0.0} s (visibility timeout {VisibilitySeconds} s, plus a worker's start)");
        }
        finally
        {
            signals.Delete(recursive: true);
        }
    }

    private static AppProcess StartWorker(TestDatabase db, string signals) => AppProcess.Start(new Dictionary<string, string?>
    {
        ["Postgres__Pooled"] = db.ConnectionString,
        ["Durable__PollMaxMs"] = "250",
        ["QueueChaos__SignalDir"] = signals,
        ["QueueChaos__VisibilitySeconds"] = VisibilitySeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Logging__LogLevel__Default"] = "Warning",
        ["urls"] = $"http://127.0.0.1:{AppProcess.FreePort()}",
    }, dll: AppProcess.DurableHostDll);
}
