using AgentCrm.Core.Durable.Queues;

namespace AgentCrm.Core.Tests.Durable;

public class QueueHandlerOptionsTests
{
    [Fact]
    public void The_retry_delay_doubles_with_each_failed_delivery_up_to_its_cap()
    {
        var options = new QueueHandlerOptions { RetryDelay = TimeSpan.FromSeconds(1), MaxRetryDelay = TimeSpan.FromSeconds(5) };

        Assert.Equal([1, 2, 4, 5, 5], Enumerable.Range(1, 5).Select(n => options.RetryDelayAfter(n).TotalSeconds));
        Assert.Equal(TimeSpan.FromSeconds(5), options.RetryDelayAfter(int.MaxValue));
    }

    [Fact]
    public void Defaults_are_valid_and_each_bad_value_is_named()
    {
        Assert.Empty(new QueueHandlerOptions().Problems());

        var problems = new QueueHandlerOptions { MaxConcurrency = 0, RetryDelay = TimeSpan.FromMinutes(2) }.Problems();

        Assert.Equal(["MaxConcurrency must be 1–1000 (was 0)", "RetryDelay must be ≥ 0 and ≤ MaxRetryDelay ≤ 1 day (were 00:02:00 and 00:01:00)"], problems);
    }

    [Theory]
    [InlineData("orders", true)]
    [InlineData("crm.contacts:import_v2-x", true)]
    [InlineData("", false)]
    [InlineData("with space", false)]
    [InlineData("ümlaut", false)]
    public void Queue_names_are_short_ascii_words(string name, bool valid) =>
        Assert.Equal(valid, QueueNames.Problem(name) is null);
}
