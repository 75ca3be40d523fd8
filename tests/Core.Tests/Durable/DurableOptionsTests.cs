using AgentCrm.Core.Durable;
using AgentCrm.Core.Platform.Configuration;
using Microsoft.Extensions.Configuration;

namespace AgentCrm.Core.Tests.Durable;

public class DurableOptionsTests
{
    [Fact]
    public void Limits_and_housekeeping_default_to_the_research_targets()
    {
        var options = Read([], out var reader);

        reader.ThrowIfProblems();
        Assert.Equal(new DurableLimits(10_000, 100_000, 10 * 1024 * 1024, 50 * 1024 * 1024, 256 * 1024), options.Limits);
        Assert.Equal(2 * 1024 * 1024, options.MaxPayloadBytes);
        Assert.Equal((TimeSpan.FromDays(30), 1000, TimeSpan.FromHours(1)), (options.Retention, options.PurgeBatchSize, options.StuckAfter));
    }

    [Fact]
    public void Bad_limit_and_housekeeping_settings_are_all_reported_in_one_startup_message()
    {
        Read(new()
        {
            ["Durable:WarnHistoryEvents"] = "200000",
            ["Durable:MaxHistoryBytes"] = "12",
            ["Durable:MaxPayloadBytes"] = "2048",
            ["Durable:WarnPayloadBytes"] = "4096",
            ["Durable:RetentionDays"] = "0",
            ["Durable:StuckAfterMinutes"] = "soon",
        }, out var reader);

        var error = Assert.Throws<ConfigurationException>(reader.ThrowIfProblems);

        Assert.Contains("5 configuration problems", error.Message, StringComparison.Ordinal);
        Assert.Contains("Durable:WarnHistoryEvents (env Durable__WarnHistoryEvents): must not exceed Durable:MaxHistoryEvents (100000), got 200000", error.Message, StringComparison.Ordinal);
        Assert.Contains("Durable:MaxHistoryBytes (env Durable__MaxHistoryBytes): must be a whole number from 1024 to 2147483647, got \"12\"", error.Message, StringComparison.Ordinal);
        Assert.Contains("Durable:WarnPayloadBytes (env Durable__WarnPayloadBytes): must not exceed Durable:MaxPayloadBytes (2048), got 4096", error.Message, StringComparison.Ordinal);
        Assert.Contains("Durable:RetentionDays (env Durable__RetentionDays): must be a whole number from 1 to 3650, got \"0\"", error.Message, StringComparison.Ordinal);
        Assert.Contains("Durable:StuckAfterMinutes (env Durable__StuckAfterMinutes): must be a whole number from 1 to 10080, got \"soon\"", error.Message, StringComparison.Ordinal);
    }

    private static DurableOptions Read(Dictionary<string, string?> values, out SettingsReader reader)
    {
        reader = new SettingsReader(new ConfigurationBuilder().AddInMemoryCollection(values).Build());
        return DurableOptions.Read(reader);
    }
}
