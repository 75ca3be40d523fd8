using System.Net;
using AgentCrm.Functions.Tests.Infrastructure;
using static AgentCrm.Functions.Tests.Traffic.TrafficFixture;

namespace AgentCrm.Functions.Tests.Traffic;

/// <summary>Each policy driven to its limit over HTTP: the exact headers on the way, the 429, the refill on the clock.</summary>
public sealed class RateLimitTests(TrafficFixture fixture) : IClassFixture<TrafficFixture>
{
    [Fact]
    public async Task Auth_counts_down_to_ten_then_answers_429_naming_the_policy_and_refills_one_per_six_seconds()
    {
        var address = NewAddress();
        Task<HttpResponseMessage> Login() => fixture.SendAsync(HttpMethod.Post, "/api/auth/login",
            body: new { email = "nobody@example.test", password = "not the password" }, forwardedFor: address);

        for (var i = 1; i <= 10; i++)
        {
            var response = await Login();
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            AssertHeaders(response, "auth", limit: 10, remaining: 10 - i, reset: 6 * i);
        }

        var refused = await Login();
        var problem = await HttpAssert.ProblemAsync(refused, HttpStatusCode.TooManyRequests, "rate-limited");
        Assert.Equal(TimeSpan.FromSeconds(6), refused.Headers.RetryAfter?.Delta);
        AssertHeaders(refused, "auth", limit: 10, remaining: 0, reset: 60);
        Assert.Equal("auth", problem.GetProperty("policy").GetString());
        Assert.Equal(10, problem.GetProperty("limit").GetInt32());
        Assert.Equal(60, problem.GetProperty("windowSeconds").GetInt32());
        Assert.Equal(6, problem.GetProperty("retryAfterSeconds").GetInt32());
        Assert.Contains("\"auth\" rate limit of 10 requests per 60 s", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);

        fixture.Clock.Advance(TimeSpan.FromSeconds(6));
        var earned = await Login();
        Assert.Equal(HttpStatusCode.Unauthorized, earned.StatusCode);
        AssertHeaders(earned, "auth", limit: 10, remaining: 0, reset: 60);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await Login()).StatusCode);

        fixture.Clock.Advance(TimeSpan.FromMinutes(1));
        AssertHeaders(await Login(), "auth", limit: 10, remaining: 9, reset: 6);
    }

    [Fact]
    public async Task Failed_credentials_draw_on_the_addresss_auth_budget_and_good_ones_do_not()
    {
        var address = NewAddress();
        Task<HttpResponseMessage> BadToken() => fixture.SendAsync(HttpMethod.Get, "/api/me", token: "not-a-token", forwardedFor: address);

        for (var i = 1; i <= 10; i++)
        {
            var response = await BadToken();
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            AssertHeaders(response, "auth", limit: 10, remaining: 10 - i, reset: 6 * i);
        }

        var refused = await BadToken();
        var problem = await HttpAssert.ProblemAsync(refused, HttpStatusCode.TooManyRequests, "rate-limited");
        Assert.Equal("auth", problem.GetProperty("policy").GetString());

        // A caller with a valid token from the same address is not held up by the guesser.
        var (_, owner) = await fixture.Seed.WorkspaceWithOwnerAsync();
        var me = await fixture.SendAsync(HttpMethod.Get, "/api/me", token: owner.Token, forwardedFor: address);
        Assert.Equal(HttpStatusCode.OK, me.StatusCode);
    }

    [Theory]
    [InlineData("ai", 20)]
    [InlineData("email", 50)]
    [InlineData("webhook", 1000)]
    public async Task The_later_features_policies_hold_at_their_limits(string policy, int limit)
    {
        var address = NewAddress();
        var intervalMs = 60_000.0 / limit;
        for (var i = 1; i <= limit; i++)
        {
            var response = await fixture.SendAsync(HttpMethod.Get, $"/api/_diagnostics/limited/{policy}", forwardedFor: address);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            if (i == 1 || i == limit / 2 || i == limit)
            {
                AssertHeaders(response, policy, limit, remaining: limit - i, reset: (long)Math.Ceiling(i * intervalMs / 1000));
            }
        }

        var refused = await fixture.SendAsync(HttpMethod.Get, $"/api/_diagnostics/limited/{policy}", forwardedFor: address);
        var problem = await HttpAssert.ProblemAsync(refused, HttpStatusCode.TooManyRequests, "rate-limited");
        Assert.Equal(policy, problem.GetProperty("policy").GetString());
        Assert.Equal(limit, problem.GetProperty("limit").GetInt32());
        Assert.Equal(TimeSpan.FromSeconds(Math.Ceiling(intervalMs / 1000)), refused.Headers.RetryAfter?.Delta);
        AssertHeaders(refused, policy, limit, remaining: 0, reset: 60);
    }

    [Theory]
    [InlineData("FREE", 100)]
    [InlineData("STARTER", 200)]
    public async Task In_a_workspace_the_default_policy_is_multiplied_by_the_tier_and_the_days_calls_are_shown_beside_it(string tier, int limit)
    {
        var (_, owner) = await fixture.Seed.WorkspaceWithOwnerAsync(tier);
        var dailyLimit = tier == "FREE" ? 1000 : 10_000;
        var toMidnight = fixture.SecondsToMidnight();
        for (var i = 1; i <= limit; i++)
        {
            var response = await fixture.SendAsync(HttpMethod.Get, "/api/dashboard", owner.Token);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            if (i == 1 || i == limit)
            {
                var reset = (long)Math.Ceiling(i * 60.0 / limit);
                Assert.Equal($"\"default\";q={limit};w=60, \"api-calls\";q={dailyLimit};w=86400", Header(response, "RateLimit-Policy"));
                Assert.Equal($"\"default\";r={limit - i};t={reset}, \"api-calls\";r={dailyLimit - i};t={toMidnight}", Header(response, "RateLimit"));
                Assert.Equal($"{limit}", Header(response, "X-RateLimit-Limit"));
            }
        }

        Assert.Equal(HttpStatusCode.TooManyRequests, (await fixture.SendAsync(HttpMethod.Get, "/api/dashboard", owner.Token)).StatusCode);
    }

    [Fact]
    public async Task Two_users_of_one_workspace_and_two_addresses_have_buckets_of_their_own()
    {
        var (workspace, first) = await fixture.Seed.WorkspaceWithOwnerAsync();
        var second = await fixture.Seed.MemberAsync(workspace, AgentCrm.Core.Platform.Security.WorkspaceRole.Viewer);
        for (var i = 0; i < 100; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await fixture.SendAsync(HttpMethod.Get, "/api/dashboard", first.Token)).StatusCode);
        }

        Assert.Equal(HttpStatusCode.TooManyRequests, (await fixture.SendAsync(HttpMethod.Get, "/api/dashboard", first.Token)).StatusCode);
        var other = await fixture.SendAsync(HttpMethod.Get, "/api/dashboard", second.Token);
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
        Assert.Equal("99", Header(other, "X-RateLimit-Remaining"));

        var (one, two) = (NewAddress(), NewAddress());
        for (var i = 0; i < 20; i++)
        {
            await fixture.SendAsync(HttpMethod.Get, "/api/_diagnostics/limited/ai", forwardedFor: one);
        }

        Assert.Equal(HttpStatusCode.TooManyRequests, (await fixture.SendAsync(HttpMethod.Get, "/api/_diagnostics/limited/ai", forwardedFor: one)).StatusCode);
        // A client cannot pick another bucket by writing its own entry left of the proxy's.
        Assert.Equal(HttpStatusCode.TooManyRequests,
            (await fixture.SendAsync(HttpMethod.Get, "/api/_diagnostics/limited/ai", forwardedFor: $"{two}, {one}")).StatusCode);
        Assert.Equal("19", Header(await fixture.SendAsync(HttpMethod.Get, "/api/_diagnostics/limited/ai", forwardedFor: two), "X-RateLimit-Remaining"));
    }

    [Fact]
    public async Task Health_checks_and_the_api_document_are_exempt_and_carry_no_rate_limit_headers()
    {
        var address = NewAddress();
        foreach (var path in new[] { "/api/health/live", "/api/health/ready", "/api/health", "/api/openapi/v1.json" })
        {
            for (var i = 0; i < 120; i++)
            {
                var response = await fixture.SendAsync(HttpMethod.Get, path, forwardedFor: address);
                Assert.True(response.StatusCode is HttpStatusCode.OK, $"{path}: {(int)response.StatusCode}");
                Assert.False(HasHeader(response, "RateLimit"), path);
                Assert.False(HasHeader(response, "X-RateLimit-Limit"), path);
            }
        }
    }

    [Fact]
    public async Task A_path_that_matches_nothing_is_limited_by_address_on_the_default_policy()
    {
        var response = await fixture.SendAsync(HttpMethod.Get, "/api/no-such-thing", forwardedFor: NewAddress());
        await HttpAssert.ProblemAsync(response, HttpStatusCode.NotFound, "not-found");
        Assert.Equal("\"default\";q=100;w=60", Header(response, "RateLimit-Policy"));
        Assert.Equal("99", Header(response, "X-RateLimit-Remaining"));
    }

    [Fact]
    public async Task A_response_that_failed_with_500_still_carries_the_headers()
    {
        var response = await fixture.SendAsync(HttpMethod.Get, "/api/_diagnostics/throw", forwardedFor: NewAddress());
        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal("100", Header(response, "X-RateLimit-Limit"));
    }

    [Fact]
    public void Every_policy_the_access_table_names_is_configured_and_only_health_and_the_document_are_exempt()
    {
        var policies = fixture.App.Services.GetRequiredService<AgentCrm.Core.Platform.RateLimiting.RateLimitOptions>().Policies;
        Assert.All(AgentCrm.Functions.Access.AccessRules.Table.Where(r => r.RatePolicy is not null), r => Assert.Contains(r.RatePolicy!, policies.Keys));
        Assert.Equal(["/api/health", "/api/health/live", "/api/health/ready", "/api/openapi/{documentName}.json"],
            AgentCrm.Functions.Access.AccessRules.Table.Where(r => r.RatePolicy is null).Select(r => r.Route).Order(StringComparer.Ordinal));
    }

    private static void AssertHeaders(HttpResponseMessage response, string policy, int limit, int remaining, long reset)
    {
        Assert.Equal($"\"{policy}\";q={limit};w=60", Header(response, "RateLimit-Policy"));
        Assert.Equal($"\"{policy}\";r={remaining};t={reset}", Header(response, "RateLimit"));
        Assert.Equal($"{limit}", Header(response, "X-RateLimit-Limit"));
        Assert.Equal($"{remaining}", Header(response, "X-RateLimit-Remaining"));
        Assert.Equal($"{reset}", Header(response, "X-RateLimit-Reset"));
    }
}
