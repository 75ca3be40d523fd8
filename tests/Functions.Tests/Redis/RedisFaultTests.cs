using System.Text;
using AgentCrm.Core.Platform.Redis;
using AgentCrm.Functions.Tests.Infrastructure;

namespace AgentCrm.Functions.Tests.Redis;

/// <summary>
/// A server that misbehaves on purpose: each fault is a clear error to the caller that asked, and the
/// client's next commands (on the same connection, or a new one when the stream had to be dropped) get
/// their own correct replies.
/// </summary>
public sealed class RedisFaultTests : IAsyncLifetime
{
    private readonly FakeRedisServer _server = new();
    private RedisClient _client = null!;

    public Task InitializeAsync()
    {
        _client = TestRedis.Client(TestRedis.Options(_server.Url, prefix: string.Empty, timeoutMs: 1000, maxReplyBytes: 4096));
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _client.DisposeAsync();
        await _server.DisposeAsync();
    }

    [Theory]
    [InlineData("?what\r\n", "type marker")]
    [InlineData(":12x\r\n", "not a number")]
    [InlineData("$3\r\nabcXY", "CRLF")]
    [InlineData("$-7\r\n", "length")]
    public async Task Malformed_replies_are_protocol_errors_and_the_client_recovers(string raw, string expected)
    {
        _server.On("bad", FakeRedisServer.Send(raw));
        var error = await Assert.ThrowsAsync<RedisProtocolException>(() => _client.GetAsync("bad"));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        await AssertRecoveredAsync();
    }

    [Fact]
    public async Task An_oversized_reply_is_refused_before_it_is_buffered()
    {
        _server.On("huge", FakeRedisServer.Send("$999999999\r\n"));
        var error = await Assert.ThrowsAsync<RedisProtocolException>(() => _client.GetAsync("huge"));
        Assert.Contains("MaxReplyBytes", error.Message, StringComparison.Ordinal);

        _server.On("wide", FakeRedisServer.Send("*100000000\r\n"));
        await AssertRecoveredAsync();
        await Assert.ThrowsAsync<RedisProtocolException>(() => _client.GetAsync("wide"));
        await AssertRecoveredAsync();
    }

    [Fact]
    public async Task A_close_in_the_middle_of_a_reply_fails_that_command_and_everything_in_flight()
    {
        _server.On("half", FakeRedisServer.SendThenClose("$10\r\nabc"));
        var error = await Assert.ThrowsAsync<RedisConnectionException>(() => _client.GetAsync("half"));
        Assert.Contains("middle of a reply", error.Message, StringComparison.Ordinal);
        await AssertRecoveredAsync();
    }

    [Fact]
    public async Task A_slow_reply_times_out_and_later_replies_still_go_to_their_own_callers()
    {
        // The fake answers in order, so the slow reply holds up "ok" behind it: both must end correctly.
        _server.On("slow", FakeRedisServer.After(TimeSpan.FromMilliseconds(1800), "$4\r\nslow\r\n"));
        var slow = _client.GetAsync("slow");
        var next = _client.GetAsync("ok");
        await Assert.ThrowsAsync<RedisTimeoutException>(() => slow);
        var afterSlow = await Record.ExceptionAsync(async () => Assert.Equal("ok", Encoding.UTF8.GetString((await next)!)));
        Assert.True(afterSlow is null or RedisTimeoutException, $"got {afterSlow}");
        await AssertRecoveredAsync();
        Assert.Equal(1, _server.Connections); // a timeout alone never costs the connection
    }

    [Fact]
    public async Task A_server_that_goes_silent_while_owing_replies_is_dropped_and_replaced()
    {
        _server.On("never", _server.Hang);
        await Assert.ThrowsAsync<RedisTimeoutException>(() => _client.GetAsync("never"));
        await Eventually.TrueAsync(() => _server.Connections >= 2 && _client.IsConnected, TimeSpan.FromSeconds(10));
        await AssertRecoveredAsync();
    }

    [Fact]
    public async Task A_reply_nobody_asked_for_drops_the_connection()
    {
        _server.On("two", FakeRedisServer.Send("$3\r\ntwo\r\n+EXTRA\r\n"));
        var first = await _client.GetAsync("two");
        Assert.Equal("two", Encoding.UTF8.GetString(first!));
        await Eventually.TrueAsync(() => _server.Connections >= 2, TimeSpan.FromSeconds(10));
        await AssertRecoveredAsync();
    }

    private async Task AssertRecoveredAsync() =>
        await Eventually.TrueAsync(async () =>
        {
            try
            {
                return Encoding.UTF8.GetString((await _client.GetAsync("ok"))!) == "ok";
            }
            catch (RedisException)
            {
                return false; // reconnecting
            }
        }, TimeSpan.FromSeconds(10));
}
