using AgentCrm.Core.Durable.Api;

namespace AgentCrm.Core.Tests.Durable;

public class RetryPolicyTests
{
    [Fact]
    public void Delays_follow_durable_functions_formula_and_cap()
    {
        var policy = new RetryPolicy(10, TimeSpan.FromSeconds(1), backoffCoefficient: 2, maxRetryInterval: TimeSpan.FromSeconds(5));

        Assert.Equal([1, 2, 4, 5, 5], Enumerable.Range(1, 5).Select(k => policy.DelayAfter(k).TotalSeconds));
    }

    [Fact]
    public void Defaults_match_durable_functions()
    {
        var policy = new RetryPolicy(3, TimeSpan.FromSeconds(1));

        Assert.Equal(1.0, policy.BackoffCoefficient);
        Assert.Equal(TimeSpan.FromHours(1), policy.MaxRetryInterval);
        Assert.Equal(Timeout.InfiniteTimeSpan, policy.RetryTimeout);
    }

    [Theory]
    [InlineData(0, 1, 1.0)]
    [InlineData(1, 0, 1.0)]
    [InlineData(1, 1, 0.5)]
    public void Invalid_policies_are_refused(int attempts, int firstSeconds, double coefficient)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new RetryPolicy(attempts, TimeSpan.FromSeconds(firstSeconds), coefficient));
    }

    [Fact]
    public void A_max_interval_or_timeout_shorter_than_the_first_interval_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new RetryPolicy(3, TimeSpan.FromSeconds(10), maxRetryInterval: TimeSpan.FromSeconds(1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RetryPolicy(3, TimeSpan.FromSeconds(10), retryTimeout: TimeSpan.FromSeconds(1)));
    }

    [Fact]
    public void Attempts_timeout_and_non_retryable_types_stop_retrying()
    {
        var policy = new RetryPolicy(3, TimeSpan.FromSeconds(1), retryTimeout: TimeSpan.FromMinutes(1)) { NonRetryableErrorTypes = ["Fatal"] };
        var transient = new TaskFailureDetails("Transient", "x", null);

        Assert.True(policy.AllowsRetry(transient, 2, TimeSpan.FromSeconds(30)));
        Assert.False(policy.AllowsRetry(transient, 3, TimeSpan.FromSeconds(30)));
        Assert.False(policy.AllowsRetry(transient, 1, TimeSpan.FromMinutes(2)));
        Assert.False(policy.AllowsRetry(new TaskFailureDetails("Fatal", "x", null), 1, TimeSpan.Zero));
    }
}
