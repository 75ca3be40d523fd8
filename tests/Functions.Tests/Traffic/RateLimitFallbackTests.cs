using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using AgentCrm.Core.Platform.RateLimiting;
using AgentCrm.Functions.Tests.Infrastructure;
using AgentCrm.Functions.Tests.Processes;
using AgentCrm.Functions.Tests.Redis;
using static AgentCrm.Functions.Tests.Traffic.TrafficFixture;

namespace AgentCrm.Functions.Tests.Traffic;

/// <summary>
/// Redis away: limits are decided in process, nothing answers 5xx, health says degraded (readiness does not
/// mind), and once Redis is back decisions are shared again within seconds. Runs alone (timing) on a
/// redis-server of its own, so no other test loses the shared one.
/// </summary>
[Collection(nameof(ServerRestarts))]
public sealed class RateLimitFallbackTests
{
    [Fact]
    public async Task With_redis_unreachable_limits_still_hold_locally_and_health_is_degraded_but_ready()
    {
        await using var db = await TestDatabase.CreateAsync(migrate: true);
        await using var app = await TestApp.StartAsync(db, new()
        {
            ["Redis:Url"] = "redis://127.0.0.1:1",
            ["RateLimits:Enabled"] = "true",
            ["Quotas:Enabled"] = "true",
        });
        var seed = new TenantSeeder(db, app);
        var address = NewAddress();
        for (var i = 1; i <= 10; i++)
        {
            var login = await app.Client.SendAsync(Login(address));
            Assert.Equal(HttpStatusCode.Unauthorized, login.StatusCode);
            Assert.Equal($"{10 - i}", Header(login, "X-RateLimit-Remaining"));
        }

        var refused = await app.Client.SendAsync(Login(address));
        await HttpAssert.ProblemAsync(refused, HttpStatusCode.TooManyRequests, "rate-limited");
        Assert.NotNull(refused.Headers.RetryAfter);

        var (_, owner) = await seed.WorkspaceWithOwnerAsync();
        var dashboard = await app.Client.SendAsync(TenantSeeder.Request(HttpMethod.Get, "/api/dashboard", owner.Token));
        Assert.Equal(HttpStatusCode.OK, dashboard.StatusCode);
        Assert.Equal("\"default\";q=100;w=60", Header(dashboard, "RateLimit-Policy")); // no day count without Redis
        var usage = await HttpAssert.JsonAsync(await app.Client.SendAsync(TenantSeeder.Request(HttpMethod.Get, "/api/usage", owner.Token)), HttpStatusCode.OK);
        Assert.Equal(0, usage.GetProperty("apiCalls").GetProperty("used").GetInt64());

        var health = await HttpAssert.JsonAsync(await app.Client.GetAsync("/api/health"), HttpStatusCode.OK);
        Assert.Equal("Degraded", health.GetProperty("status").GetString());
        var check = health.GetProperty("checks").GetProperty(RateLimitHealthCheck.Name);
        Assert.Equal("Degraded", check.GetProperty("status").GetString());
        Assert.Equal("redis unreachable: local rate limits", check.GetProperty("description").GetString());
        Assert.Equal(HttpStatusCode.OK, (await app.Client.GetAsync("/api/health/ready")).StatusCode);
    }

    [Fact]
    public async Task Redis_stopped_under_load_costs_no_5xx_and_shared_limits_are_back_within_five_seconds_of_its_return()
    {
        await using var redis = await RedisServerProcess.StartAsync();
        await using var db = await TestDatabase.CreateAsync(migrate: true);
        await using var app = await TestApp.StartAsync(db, new()
        {
            ["Redis:Url"] = redis.Url,
            ["RateLimits:Enabled"] = "true",
            ["Quotas:Enabled"] = "true",
            ["RateLimits:Default:Limit"] = "1000000",
        });
        var (_, owner) = await new TenantSeeder(db, app).WorkspaceWithOwnerAsync("ENTERPRISE");
        var limiter = app.Services.GetRequiredService<RateLimiter>();

        var statuses = new ConcurrentBag<int>();
        using var stop = new CancellationTokenSource();
        var load = Enumerable.Range(0, 4).Select(async _ =>
        {
            while (!stop.IsCancellationRequested)
            {
                using var response = await app.Client.SendAsync(TenantSeeder.Request(HttpMethod.Get, "/api/dashboard", owner.Token));
                statuses.Add((int)response.StatusCode);
            }
        }).ToList();

        try
        {
            await Eventually.TrueAsync(() => statuses.Count >= 50);
            Assert.Null(limiter.LastLocalDecisionAt); // all shared so far

            await redis.KillAsync();
            var before = statuses.Count;
            await Eventually.TrueAsync(() => limiter.LastLocalDecisionAt is not null && statuses.Count >= before + 100);
            var health = await HttpAssert.JsonAsync(await app.Client.GetAsync("/api/health"), HttpStatusCode.OK);
            Assert.Equal("Degraded", health.GetProperty("checks").GetProperty(RateLimitHealthCheck.Name).GetProperty("status").GetString());

            await redis.RestartAsync();
            var back = Stopwatch.StartNew();
            await Eventually.TrueAsync(async () =>
            {
                var sent = DateTimeOffset.UtcNow;
                using var probe = await app.Client.SendAsync(TenantSeeder.Request(HttpMethod.Get, "/api/dashboard", owner.Token));
                return limiter.LastLocalDecisionAt < sent.AddMilliseconds(-50); // nobody decided locally since just before the probe
            }, TimeSpan.FromSeconds(10));
            Assert.True(back.Elapsed < TimeSpan.FromSeconds(5), $"shared limits came back after {back.Elapsed}");
            await Eventually.TrueAsync(async () => (await app.Client.GetAsync("/api/health")).StatusCode == HttpStatusCode.OK
                && (await HttpAssert.JsonAsync(await app.Client.GetAsync("/api/health"), HttpStatusCode.OK))
                    .GetProperty("checks").GetProperty(RateLimitHealthCheck.Name).GetProperty("status").GetString() == "Healthy", TimeSpan.FromSeconds(15));
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(load);
        }

        Assert.DoesNotContain(statuses, s => s >= 500);
        Assert.All(statuses, s => Assert.Equal(200, s));
    }

    private static HttpRequestMessage Login(string address)
    {
        var request = TenantSeeder.Request(HttpMethod.Post, "/api/auth/login", null, new { email = "nobody@example.test", password = "not the password" });
        request.Headers.TryAddWithoutValidation("X-Forwarded-For", address);
        return request;
    }
}
