using System.Text;
using AgentCrm.Core.Platform.Redis;
using AgentCrm.Functions.Tests.Infrastructure;

namespace AgentCrm.Functions.Tests.Redis;

/// <summary>A real redis-server killed (SIGKILL) and restarted in the middle of traffic.</summary>
public sealed class RedisRestartTests
{
    [Fact]
    public async Task Traffic_fails_fast_while_the_server_is_down_and_recovers_within_seconds_of_its_return()
    {
        await using var server = await RedisServerProcess.StartAsync();
        var options = TestRedis.Options(server.Url);
        await using var client = TestRedis.Client(options);
        await using var subscriber = TestRedis.Subscriber(options);
        var resubscribed = 0;
        subscriber.Resubscribed += () => Interlocked.Increment(ref resubscribed);
        var messages = 0;
        await subscriber.SubscribeAsync("news", _ => Interlocked.Increment(ref messages));
        await Eventually.TrueAsync(() => subscriber.IsConnected, TimeSpan.FromSeconds(10));

        using var stop = new CancellationTokenSource();
        var failures = new List<Exception>();
        var wrong = 0;
        var ok = 0;
        var traffic = Enumerable.Range(0, 8).Select(worker => Task.Run(async () =>
        {
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                try
                {
                    var value = $"{worker}:{i}";
                    await client.SetAsync($"w{worker}", Encoding.UTF8.GetBytes(value), TimeSpan.FromMinutes(1));
                    if (Encoding.UTF8.GetString((await client.GetAsync($"w{worker}"))!) != value)
                    {
                        Interlocked.Increment(ref wrong);
                    }

                    Interlocked.Increment(ref ok);
                }
                catch (RedisException ex)
                {
                    lock (failures)
                    {
                        failures.Add(ex);
                    }

                    await Task.Delay(5);
                }
            }
        })).ToList();

        await Eventually.TrueAsync(() => Volatile.Read(ref ok) > 500, TimeSpan.FromSeconds(10));
        await server.KillAsync();
        await Eventually.TrueAsync(() => { lock (failures) { return failures.Count > 50; } }, TimeSpan.FromSeconds(10));

        // While down: every failure is a RedisException and none took long (fail fast, no connect timeout per call).
        var downAt = TimeProvider.System.GetTimestamp();
        var ping = await Record.ExceptionAsync(() => client.PingAsync());
        Assert.IsType<RedisConnectionException>(ping);
        Assert.True(TimeProvider.System.GetElapsedTime(downAt) < TimeSpan.FromMilliseconds(200));

        await server.RestartAsync();
        var back = TimeProvider.System.GetTimestamp();
        var okAtRestart = Volatile.Read(ref ok);
        await Eventually.TrueAsync(() => Volatile.Read(ref ok) > okAtRestart + 100, TimeSpan.FromSeconds(10));
        var recovery = TimeProvider.System.GetElapsedTime(back);
        await Eventually.TrueAsync(() => Volatile.Read(ref resubscribed) >= 1 && subscriber.IsConnected, TimeSpan.FromSeconds(10));
        await stop.CancelAsync();
        await Task.WhenAll(traffic);

        Assert.True(recovery < TimeSpan.FromSeconds(5), $"commands recovered {recovery.TotalMilliseconds:0} ms after the server returned");
        Assert.Equal(0, wrong);
        Assert.All(failures, f => Assert.True(f is RedisConnectionException or RedisTimeoutException, f.ToString()));

        // The resubscribed channel delivers again.
        await Eventually.TrueAsync(async () => await client.PublishAsync("news", "again"u8.ToArray()) == 1 && Volatile.Read(ref messages) >= 1, TimeSpan.FromSeconds(10));
    }
}
