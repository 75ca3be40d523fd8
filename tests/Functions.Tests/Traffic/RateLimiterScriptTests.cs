using AgentCrm.Core.Platform.RateLimiting;
using AgentCrm.Core.Platform.Redis;
using AgentCrm.Functions.Tests.Redis;
using AgentCrm.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace AgentCrm.Functions.Tests.Traffic;

/// <summary>The limiter's one script against the real Redis: the rate, the daily counter, and what a refusal leaves behind.</summary>
public sealed class RateLimiterScriptTests : IAsyncLifetime
{
    private static readonly RatePolicy FivePerMinute = new("test", 5, 5, TimeSpan.FromMinutes(1));
    private readonly FakeTimeProvider _clock = new();
    private RedisClient _redis = null!;
    private RateLimiter _limiter = null!;

    public Task InitializeAsync()
    {
        _redis = TestRedis.Client(TestRedis.Options(TestRedis.SharedUrl));
        var options = new RateLimitOptions(true, new Dictionary<string, RatePolicy>(), 1, 1000);
        _limiter = new RateLimiter(_redis, new LocalRateLimiter(options), new BucketMirrors(), _clock, NullLogger<RateLimiter>.Instance);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _redis.DisposeAsync();

    [Fact]
    public async Task The_rate_counts_down_refuses_and_refills_on_the_clock_it_is_given()
    {
        for (var i = 1; i <= 5; i++)
        {
            var allowed = await _limiter.CheckAsync(FivePerMinute, "rl:{t}:a", null, default);
            Assert.Equal(RateOutcome.Allowed, allowed.Outcome);
            Assert.Equal(5 - i, allowed.Remaining);
            Assert.Equal(TimeSpan.FromSeconds(12 * i), allowed.ResetAfter);
            Assert.False(allowed.Local);
        }

        var refused = await _limiter.CheckAsync(FivePerMinute, "rl:{t}:a", null, default);
        Assert.Equal(RateOutcome.Limited, refused.Outcome);
        Assert.Equal(TimeSpan.FromSeconds(12), refused.RetryAfter);

        _clock.Advance(TimeSpan.FromSeconds(12));
        Assert.Equal(RateOutcome.Allowed, (await _limiter.CheckAsync(FivePerMinute, "rl:{t}:a", null, default)).Outcome);
        _clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(4, (await _limiter.CheckAsync(FivePerMinute, "rl:{t}:a", null, default)).Remaining);
    }

    [Fact]
    public async Task Requests_far_from_the_limit_are_decided_in_process_and_reach_redis_at_the_next_flush()
    {
        // Two instances on one bucket. A decides most of its requests on its copy of the bucket.
        var policy = new RatePolicy("mirror", 20, 20, TimeSpan.FromMinutes(1));
        var other = new RateLimiter(_redis, new LocalRateLimiter(new RateLimitOptions(true, new Dictionary<string, RatePolicy>(), 1, 1000)),
            new BucketMirrors(), _clock, NullLogger<RateLimiter>.Instance);
        for (var i = 1; i <= 8; i++)
        {
            var decision = await _limiter.CheckAsync(policy, "rl:{t}:m", null, default);
            Assert.Equal(20 - i, decision.Remaining); // exact on one instance, whoever decided
        }

        await _limiter.FlushAsync(default);
        Assert.Equal(11, (await other.CheckAsync(policy, "rl:{t}:m", null, default)).Remaining); // B sees all 8 of A's

        // Near the limit Redis decides every request, so two instances together never pass the burst.
        var allowed = 9;
        for (var i = 0; i < 30; i++)
        {
            var limiter = i % 2 == 0 ? _limiter : other;
            allowed += (await limiter.CheckAsync(policy, "rl:{t}:m", null, default)).IsAllowed ? 1 : 0;
        }

        Assert.Equal(20, allowed);
    }

    [Fact]
    public async Task A_limit_finer_than_a_millisecond_still_decides_in_redis()
    {
        // 500 million a minute: the interval (0.00012 ms) vanishes against epoch milliseconds in a double,
        // which once made the script SET with PX 0, an error, and every decision fall back to local.
        var huge = new RatePolicy("huge", 500_000_000, 500_000_000, TimeSpan.FromMinutes(1));
        for (var i = 0; i < 3; i++)
        {
            var decision = await _limiter.CheckAsync(huge, "rl:{t}:huge", null, default);
            Assert.Equal(RateOutcome.Allowed, decision.Outcome);
            Assert.False(decision.Local);
        }
    }

    [Fact]
    public async Task A_missing_counter_asks_for_a_seed_and_counts_nothing_until_it_has_one()
    {
        var counter = new DailyCounter("usage:{t}:calls", 3, TimeSpan.FromHours(1));

        var missing = await _limiter.CheckAsync(FivePerMinute, "rl:{t}:b", counter, default);
        Assert.Equal(RateOutcome.CounterMissing, missing.Outcome);
        Assert.Equal(5, missing.Remaining); // the rate was not spent
        Assert.Null(await _redis.GetAsync("usage:{t}:calls"));

        var seeded = await _limiter.CheckAsync(FivePerMinute, "rl:{t}:b", counter with { Seed = 1 }, default);
        Assert.Equal(RateOutcome.Allowed, seeded.Outcome);
        Assert.Equal(2, seeded.CounterValue);
        Assert.Equal(3, (await _limiter.CheckAsync(FivePerMinute, "rl:{t}:b", counter, default)).CounterValue);

        var exhausted = await _limiter.CheckAsync(FivePerMinute, "rl:{t}:b", counter, default);
        Assert.Equal(RateOutcome.CounterExhausted, exhausted.Outcome);
        Assert.Equal(3, exhausted.CounterValue);
        Assert.Equal(3, exhausted.Remaining); // two requests spent of five; the refused one spent nothing
        var ttl = (await _redis.ExecuteAsync("TTL", [_redis.Key("usage:{t}:calls")])).AsInteger();
        Assert.InRange(ttl, 3590, 3600);
    }

    [Fact]
    public async Task Over_the_rate_the_counter_is_not_touched()
    {
        var counter = new DailyCounter("usage:{t}:c", 100, TimeSpan.FromHours(1), Seed: 0);
        for (var i = 0; i < 5; i++)
        {
            await _limiter.CheckAsync(FivePerMinute, "rl:{t}:c", counter, default);
        }

        var refused = await _limiter.CheckAsync(FivePerMinute, "rl:{t}:c", counter, default);
        Assert.Equal(RateOutcome.Limited, refused.Outcome);
        Assert.Equal("5", System.Text.Encoding.ASCII.GetString((await _redis.GetAsync("usage:{t}:c"))!));
    }

    [Fact]
    public async Task A_counter_alone_counts_without_a_rate()
    {
        var counter = new DailyCounter("usage:{t}:d", 2, TimeSpan.FromHours(1), Seed: 0);
        Assert.Equal(1, (await _limiter.CheckAsync(null, "usage:{t}:d", counter, default)).CounterValue);
        Assert.Equal(2, (await _limiter.CheckAsync(null, "usage:{t}:d", counter, default)).CounterValue);
        Assert.Equal(RateOutcome.CounterExhausted, (await _limiter.CheckAsync(null, "usage:{t}:d", counter, default)).Outcome);
    }

    [Fact]
    public async Task Concurrent_requests_on_one_bucket_get_exactly_the_burst()
    {
        var policy = new RatePolicy("test", 50, 50, TimeSpan.FromMinutes(1));
        var decisions = await Task.WhenAll(Enumerable.Range(0, 200).Select(_ => _limiter.CheckAsync(policy, "rl:{t}:e", null, default).AsTask()));
        Assert.Equal(50, decisions.Count(d => d.IsAllowed));
    }

    [Fact]
    public async Task With_redis_unreachable_the_same_limits_hold_in_process_and_redis_is_not_asked_again_at_once()
    {
        await using var dead = TestRedis.Client(TestRedis.Options("redis://127.0.0.1:1", timeoutMs: 200));
        var options = new RateLimitOptions(true, new Dictionary<string, RatePolicy>(), 1, 1000);
        var limiter = new RateLimiter(dead, new LocalRateLimiter(options), new BucketMirrors(), _clock, NullLogger<RateLimiter>.Instance);

        var decisions = new List<RateDecision>();
        for (var i = 0; i < 6; i++)
        {
            decisions.Add(await limiter.CheckAsync(FivePerMinute, "rl:{t}:f", new DailyCounter("usage:{t}:f", 1, TimeSpan.FromHours(1)), default));
        }

        Assert.All(decisions, d => Assert.True(d.Local));
        Assert.Equal(5, decisions.Count(d => d.IsAllowed)); // the counter is not enforced locally; the rate is
        Assert.Equal(RateOutcome.Limited, decisions[^1].Outcome);
        Assert.NotNull(limiter.LastLocalDecisionAt);
    }
}
