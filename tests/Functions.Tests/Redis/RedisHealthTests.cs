using System.Net;
using AgentCrm.Functions.Tests.Infrastructure;

namespace AgentCrm.Functions.Tests.Redis;

/// <summary>Redis shows in /api/health; without it the app is degraded, never out of rotation.</summary>
public sealed class RedisHealthTests
{
    [Fact]
    public async Task Health_detail_reports_redis_healthy_with_its_round_trip()
    {
        await using var db = await TestDatabase.CreateAsync(migrate: true);
        await using var app = await TestApp.StartAsync(db, new() { ["Redis:Url"] = TestRedis.SharedUrl, ["Redis:KeyPrefix"] = TestRedis.UniquePrefix() });

        var health = await HttpAssert.JsonAsync(await app.Client.GetAsync("/api/health"), HttpStatusCode.OK);
        var redis = health.GetProperty("checks").GetProperty("redis");
        Assert.Equal("Healthy", redis.GetProperty("status").GetString());
        Assert.True(redis.GetProperty("data").GetProperty("pingMs").GetDouble() >= 0);
    }

    [Fact]
    public async Task Unreachable_or_missing_redis_is_degraded_and_readiness_stays_up()
    {
        await using var db = await TestDatabase.CreateAsync(migrate: true);
        foreach (var url in new[] { $"redis://:some-password@127.0.0.1:{AppProcess.FreePort()}", null })
        {
            await using var app = await TestApp.StartAsync(db, new() { ["Redis:Url"] = url });

            var health = await HttpAssert.JsonAsync(await app.Client.GetAsync("/api/health"), HttpStatusCode.OK);
            Assert.Equal("Degraded", health.GetProperty("status").GetString());
            var redis = health.GetProperty("checks").GetProperty("redis");
            Assert.Equal("Degraded", redis.GetProperty("status").GetString());
            var description = redis.GetProperty("description").GetString()!;
            Assert.Contains(url is null ? "No Redis is configured" : "Redis is unreachable", description, StringComparison.Ordinal);
            Assert.DoesNotContain("some-password", description, StringComparison.Ordinal);

            await HttpAssert.JsonAsync(await app.Client.GetAsync("/api/health/ready"), HttpStatusCode.OK);
        }
    }
}
