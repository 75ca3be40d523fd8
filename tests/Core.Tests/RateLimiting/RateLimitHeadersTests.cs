using AgentCrm.Core.Platform.RateLimiting;
using Microsoft.AspNetCore.Http;

namespace AgentCrm.Core.Tests.RateLimiting;

public class RateLimitHeadersTests
{
    [Fact]
    public void The_draft_structured_fields_and_the_x_headers_are_written_in_seconds_rounded_up()
    {
        var headers = new HeaderDictionary();
        var policy = new RatePolicy("default", 100, 100, TimeSpan.FromMinutes(1));
        var decision = new RateDecision(RateOutcome.Allowed, 42, TimeSpan.FromMilliseconds(17_001), TimeSpan.Zero, 12, false);

        RateLimitHeaders.Apply(headers, policy, decision, new RateLimitHeaders.QuotaItem("api-calls", 1000, 988, TimeSpan.FromHours(12)));

        Assert.Equal("\"default\";q=100;w=60, \"api-calls\";q=1000;w=86400", headers["RateLimit-Policy"]);
        Assert.Equal("\"default\";r=42;t=18, \"api-calls\";r=988;t=43200", headers["RateLimit"]);
        Assert.Equal("100", headers["X-RateLimit-Limit"]);
        Assert.Equal("42", headers["X-RateLimit-Remaining"]);
        Assert.Equal("18", headers["X-RateLimit-Reset"]);
    }

    [Fact]
    public void Without_a_quota_only_the_policy_is_named()
    {
        var headers = new HeaderDictionary();
        RateLimitHeaders.Apply(headers, new RatePolicy("auth", 10, 10, TimeSpan.FromMinutes(1)),
            new RateDecision(RateOutcome.Allowed, 9, TimeSpan.FromSeconds(6), TimeSpan.Zero, -1, false), null);

        Assert.Equal("\"auth\";q=10;w=60", headers["RateLimit-Policy"]);
        Assert.Equal("\"auth\";r=9;t=6", headers["RateLimit"]);
    }
}
