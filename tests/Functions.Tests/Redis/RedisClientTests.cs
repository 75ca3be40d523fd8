using System.Text;
using AgentCrm.Core.Platform.Redis;
using AgentCrm.Functions.Tests.Infrastructure;

namespace AgentCrm.Functions.Tests.Redis;

/// <summary>The RESP client against the real redis-server: commands, prefixes, scripts, errors, multiplexing, pub/sub.</summary>
public sealed class RedisClientTests : IAsyncLifetime
{
    private readonly RedisOptions _options = TestRedis.Options(TestRedis.SharedUrl);
    private RedisClient _client = null!;

    public Task InitializeAsync()
    {
        _client = TestRedis.Client(_options);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _client.DisposeAsync();

    [Fact]
    public async Task Set_get_delete_and_increment_round_trip_under_the_prefix()
    {
        await _client.SetAsync("greeting", Encoding.UTF8.GetBytes("héllo"), TimeSpan.FromMinutes(1));
        Assert.Equal("héllo", Encoding.UTF8.GetString((await _client.GetAsync("greeting"))!));

        // The key really lives under the prefix: a raw GET of the bare name finds nothing.
        Assert.True((await _client.ExecuteAsync("GET", ["greeting"])).IsNil);
        Assert.Equal("héllo", (await _client.ExecuteAsync("GET", [_options.KeyPrefix + "greeting"])).AsString());
        var ttl = (await _client.ExecuteAsync("PTTL", [_client.Key("greeting")])).AsInteger();
        Assert.InRange(ttl, 1, 60_000);

        Assert.Equal(5, await _client.IncrementAsync("counter", 5));
        Assert.Equal(3, await _client.IncrementAsync("counter", -2));
        Assert.Equal(2, await _client.DeleteAsync(["greeting", "counter", "never-set"]));
        Assert.Null(await _client.GetAsync("greeting"));
    }

    [Fact]
    public async Task Binary_values_and_empty_values_survive()
    {
        var bytes = Enumerable.Range(0, 256).Select(i => (byte)i).Concat("\r\n$-1\r\n"u8.ToArray()).ToArray();
        await _client.SetAsync("binary", bytes, null);
        Assert.Equal(bytes, await _client.GetAsync("binary"));
        await _client.SetAsync("empty", Array.Empty<byte>(), null);
        Assert.Empty((await _client.GetAsync("empty"))!);
        await _client.DeleteAsync(["binary", "empty"]);
    }

    [Fact]
    public async Task A_large_value_arrives_whole()
    {
        var big = new byte[3 * 1024 * 1024];
        Random.Shared.NextBytes(big);
        await _client.SetAsync("big", big, TimeSpan.FromMinutes(1));
        Assert.Equal(big, await _client.GetAsync("big"));
        await _client.DeleteAsync(["big"]);
    }

    [Fact]
    public async Task Concurrent_callers_each_get_their_own_reply()
    {
        // Thousands of commands from many tasks share one connection; a reply matched to the wrong caller shows here.
        // (A generous timeout: this is about matching, and the full suite can starve the thread pool for a while.)
        await using var client = TestRedis.Client(_options with { CommandTimeout = TimeSpan.FromSeconds(10) });
        var tasks = Enumerable.Range(0, 2000).Select(async i =>
        {
            await client.SetAsync($"k{i}", Encoding.UTF8.GetBytes($"v{i}"), TimeSpan.FromMinutes(1));
            var value = Encoding.UTF8.GetString((await client.GetAsync($"k{i}"))!);
            return (i, value);
        });
        foreach (var (i, value) in await Task.WhenAll(tasks))
        {
            Assert.Equal($"v{i}", value);
        }

        await _client.DeleteAsync([.. Enumerable.Range(0, 2000).Select(i => $"k{i}")]);
    }

    [Fact]
    public async Task An_error_reply_is_a_server_exception_and_the_connection_carries_on()
    {
        await _client.SetAsync("text", "abc"u8.ToArray(), TimeSpan.FromMinutes(1));
        var error = await Assert.ThrowsAsync<RedisServerException>(() => _client.ExecuteAsync("LPUSH", [_client.Key("text"), "x"]));
        Assert.Equal("WRONGTYPE", error.Code);
        Assert.Equal("abc", Encoding.UTF8.GetString((await _client.GetAsync("text"))!));
    }

    [Fact]
    public async Task Scripts_run_by_sha_and_are_loaded_again_after_a_flush()
    {
        var script = new RedisScript("return redis.call('INCRBY', KEYS[1], ARGV[1])");
        Assert.Equal(2, (await _client.EvalAsync(script, ["scripted"], [2])).AsInteger());

        // A restarted or failed-over server has no scripts: NOSCRIPT must be handled, not surfaced.
        await _client.ExecuteAsync("SCRIPT", ["FLUSH"]);
        Assert.Equal(5, (await _client.EvalAsync(script, ["scripted"], [3])).AsInteger());
        Assert.Equal("5", (await _client.ExecuteAsync("GET", [_options.KeyPrefix + "scripted"])).AsString());
        await _client.DeleteAsync(["scripted"]);
    }

    [Fact]
    public async Task A_slow_reply_times_out_alone_and_the_next_command_gets_its_own_reply()
    {
        // A server of its own: CLIENT PAUSE would stall every other test's commands on the shared one.
        await using var server = await RedisServerProcess.StartAsync();
        var options = TestRedis.Options(server.Url, timeoutMs: 150);
        await using var admin = TestRedis.Client(options with { CommandTimeout = TimeSpan.FromSeconds(5) });
        await using var fast = TestRedis.Client(options);
        await fast.SetAsync("after", "mine"u8.ToArray(), TimeSpan.FromMinutes(1));

        // CLIENT PAUSE holds every other client's commands for 600 ms on the real server (shorter than the client's
        // 1 s dead-peer limit). On a loaded machine the ECHO can go out after the pause has ended and be answered in
        // time, which tests nothing: then pause again, up to three times.
        RedisTimeoutException? timedOut = null;
        for (var attempt = 0; attempt < 3 && timedOut is null; attempt++)
        {
            await admin.ExecuteAsync("CLIENT", ["PAUSE", 600, "ALL"]);
            try
            {
                await fast.ExecuteAsync("ECHO", ["late"]);
            }
            catch (RedisTimeoutException ex)
            {
                timedOut = ex;
            }
        }

        Assert.NotNull(timedOut);
        Assert.Contains("ECHO", timedOut.Message, StringComparison.Ordinal);

        // The late ECHO reply arrives later and must be dropped, not handed to this GET.
        await Eventually.TrueAsync(async () =>
        {
            try
            {
                return Encoding.UTF8.GetString((await fast.GetAsync("after"))!) == "mine";
            }
            catch (RedisTimeoutException)
            {
                return false;
            }
        }, TimeSpan.FromSeconds(10));
        Assert.True(fast.IsConnected);
    }

    [Fact]
    public async Task A_wrong_password_is_a_clear_connection_error_without_the_password()
    {
        var endpoint = _options.Endpoint!;
        await using var client = TestRedis.Client(_options with { Endpoint = endpoint with { Password = "not-the-password" } });
        var error = await Assert.ThrowsAsync<RedisConnectionException>(() => client.PingAsync());
        Assert.Contains("refused the connection", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("not-the-password", error.Message, StringComparison.Ordinal);

        // Later calls fail at once instead of waiting for a connect each time.
        var started = TimeProvider.System.GetTimestamp();
        await Assert.ThrowsAsync<RedisConnectionException>(() => client.PingAsync());
        Assert.True(TimeProvider.System.GetElapsedTime(started) < TimeSpan.FromMilliseconds(500));
    }

    [Fact]
    public async Task No_server_configured_fails_every_command_with_a_connection_error()
    {
        await using var client = TestRedis.Client(_options with { Endpoint = null });
        Assert.False(client.IsConfigured);
        await Assert.ThrowsAsync<RedisConnectionException>(() => client.GetAsync("x"));
    }

    [Fact]
    public async Task A_cancelled_command_ends_at_once_and_leaves_the_stream_in_step()
    {
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _client.ExecuteAsync("PING", [], cancelled.Token));
        Assert.Equal("PONG", (await _client.ExecuteAsync("PING", [])).AsString());
        Assert.Equal("echo", (await _client.ExecuteAsync("ECHO", ["echo"])).AsString());
    }

    [Fact]
    public async Task Published_messages_reach_subscribers_under_the_prefix()
    {
        await using var subscriber = TestRedis.Subscriber(_options);
        var received = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        await subscriber.SubscribeAsync("events", payload => received.TrySetResult(Encoding.UTF8.GetString(payload.Span)));
        await Eventually.TrueAsync(async () => subscriber.IsConnected && await _client.PublishAsync("events", "hello"u8.ToArray()) == 1, TimeSpan.FromSeconds(10));
        Assert.Equal("hello", await received.Task.WaitAsync(TimeSpan.FromSeconds(5)));
    }
}
