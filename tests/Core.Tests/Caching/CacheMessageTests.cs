using AgentCrm.Core.Platform.Caching;
using AgentCrm.Core.Platform.Configuration;
using Microsoft.Extensions.Configuration;

namespace AgentCrm.Core.Tests.Caching;

public class CacheMessageTests
{
    [Theory]
    [InlineData(CacheMessageKind.Key, "contact", "0f1e:9a8b", 0)]
    [InlineData(CacheMessageKind.Namespace, "contact-list", "0f1e", 1764571234567)]
    [InlineData(CacheMessageKind.Epoch, "", "", 42)]
    public void Messages_survive_the_wire(CacheMessageKind kind, string cache, string name, long version)
    {
        var message = new CacheMessage(kind, cache, name, version);

        Assert.Equal(message, CacheMessage.Decode(message.Encode()));
    }

    [Theory]
    [InlineData("")]
    [InlineData("x\ncache\nkey\n0")]
    [InlineData("k\ncache\nkey")]
    [InlineData("n\ncache\nns\nnot-a-number")]
    public void What_this_build_does_not_understand_is_ignored(string payload) =>
        Assert.Null(CacheMessage.Decode(System.Text.Encoding.UTF8.GetBytes(payload)));

    [Fact]
    public void Defaults_are_the_issue_s_and_an_l2_shorter_than_l1_is_refused()
    {
        var defaults = CachingOptions.Read(Reader([]));
        Assert.True(defaults.Enabled);
        Assert.Equal(500, defaults.L1MaxEntries);
        Assert.Equal(TimeSpan.FromMinutes(5), defaults.L1Ttl);
        Assert.Equal(TimeSpan.FromMinutes(15), defaults.L2Ttl);
        Assert.True(defaults.WarmupBudget < CachingOptions.MaxWarmup);

        var reader = Reader(new() { ["Cache:L1Seconds"] = "600", ["Cache:L2Seconds"] = "60", ["Cache:WarmupMs"] = "5000" });
        CachingOptions.Read(reader);
        Assert.Equal(["Cache:L2Seconds", "Cache:WarmupMs"], reader.Problems.Select(p => p.Setting).Order());
    }

    private static SettingsReader Reader(Dictionary<string, string?> values) => new(new ConfigurationBuilder().AddInMemoryCollection(values).Build());
}
