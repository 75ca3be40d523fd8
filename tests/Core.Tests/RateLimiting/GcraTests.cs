using AgentCrm.Core.Platform.RateLimiting;

namespace AgentCrm.Core.Tests.RateLimiting;

public class GcraTests
{
    private static readonly RatePolicy TenPerMinute = new("auth", 10, 10, TimeSpan.FromMinutes(1));

    [Fact]
    public void A_full_bucket_allows_the_burst_then_refuses_and_names_the_wait_for_one_more()
    {
        var local = new LocalRateLimiter(Options());
        for (var i = 1; i <= 10; i++)
        {
            var allowed = local.Check(TenPerMinute, "k", 0);
            Assert.Equal(RateOutcome.Allowed, allowed.Outcome);
            Assert.Equal(10 - i, allowed.Remaining);
            Assert.Equal(TimeSpan.FromSeconds(6 * i), allowed.ResetAfter); // the bucket is full again after i intervals
        }

        var refused = local.Check(TenPerMinute, "k", 0);
        Assert.Equal(RateOutcome.Limited, refused.Outcome);
        Assert.Equal(0, refused.Remaining);
        Assert.Equal(TimeSpan.FromSeconds(6), refused.RetryAfter);
        Assert.Equal(TimeSpan.FromSeconds(60), refused.ResetAfter);
        Assert.True(refused.Local);
    }

    [Fact]
    public void One_request_is_earned_back_per_interval_and_a_refusal_costs_nothing()
    {
        var local = new LocalRateLimiter(Options());
        for (var i = 0; i < 10; i++)
        {
            local.Check(TenPerMinute, "k", 0);
        }

        Assert.Equal(RateOutcome.Limited, local.Check(TenPerMinute, "k", 5_999).Outcome);
        Assert.Equal(RateOutcome.Allowed, local.Check(TenPerMinute, "k", 6_000).Outcome);
        Assert.Equal(RateOutcome.Limited, local.Check(TenPerMinute, "k", 6_000).Outcome);
        var later = local.Check(TenPerMinute, "k", 66_000); // a minute later: full again, minus this one
        Assert.Equal(9, later.Remaining);
    }

    [Fact]
    public void Burst_and_rate_are_separate_and_a_tier_scales_both()
    {
        var policy = new RatePolicy("default", 100, 20, TimeSpan.FromMinutes(1)).Scaled(5);
        Assert.Equal(500, policy.Limit);
        Assert.Equal(100, policy.Burst);
        Assert.Equal(120, policy.IntervalMs);

        var local = new LocalRateLimiter(Options());
        var allowed = Enumerable.Range(0, 200).Count(_ => local.Check(policy, "k", 0).IsAllowed);
        Assert.Equal(100, allowed);
    }

    [Fact]
    public void Buckets_are_separate_by_key()
    {
        var local = new LocalRateLimiter(Options());
        for (var i = 0; i < 10; i++)
        {
            local.Check(TenPerMinute, "a", 0);
        }

        Assert.False(local.Check(TenPerMinute, "a", 0).IsAllowed);
        Assert.True(local.Check(TenPerMinute, "b", 0).IsAllowed);
    }

    [Fact]
    public void The_fallback_keeps_its_memory_bounded()
    {
        var local = new LocalRateLimiter(Options(maxBuckets: 100));
        for (var i = 0; i < 10_000; i++)
        {
            local.Check(TenPerMinute, $"k{i}", i * 10_000L); // each bucket is full again before the next arrives
        }

        Assert.InRange(local.BucketCount, 1, 101);

        for (var i = 0; i < 1_000; i++)
        {
            local.Check(TenPerMinute, $"busy{i}", 0); // none full: the bound still holds
        }

        Assert.InRange(local.BucketCount, 1, 101);
    }

    private static RateLimitOptions Options(int maxBuckets = 1000) =>
        new(true, new Dictionary<string, RatePolicy> { ["auth"] = TenPerMinute }, 1, maxBuckets);
}
