using System.Net;
using AgentCrm.Core.Platform.Hosting;
using AgentCrm.Functions.Tests.Infrastructure;
using AgentCrm.Tests.Support;

namespace AgentCrm.Functions.Tests.Platform;

public class HealthTests
{
    [Fact]
    public async Task Live_answers_without_the_database_while_ready_reports_it_down()
    {
        await using var app = await TestApp.StartAsync(database: null, new() { ["Health:PostgresTimeoutMs"] = "500" });

        var live = await HttpAssert.JsonAsync(await app.Client.GetAsync("/api/health/live"), HttpStatusCode.OK);
        var ready = await HttpAssert.JsonAsync(await app.Client.GetAsync("/api/health/ready"), HttpStatusCode.ServiceUnavailable);

        Assert.Equal("Healthy", live.GetProperty("status").GetString());
        Assert.Empty(live.GetProperty("checks").EnumerateObject());
        Assert.Equal("Unhealthy", ready.GetProperty("status").GetString());
        var postgres = ready.GetProperty("checks").GetProperty("postgres");
        Assert.Equal("Unhealthy", postgres.GetProperty("status").GetString());
        Assert.Contains("PostgreSQL", postgres.GetProperty("description").GetString(), StringComparison.Ordinal);
        Assert.True(postgres.GetProperty("durationMs").GetDouble() >= 0);
    }

    [Fact]
    public async Task Ready_is_200_with_every_check_when_the_database_is_reachable_and_current()
    {
        await using var db = await TestDatabase.CreateAsync();
        await using var app = await TestApp.StartAsync(db, new() { ["Migrations:RunOnStart"] = "true" });

        var ready = await HttpAssert.JsonAsync(await app.Client.GetAsync("/api/health/ready"), HttpStatusCode.OK);

        Assert.Equal("Healthy", ready.GetProperty("status").GetString());
        var checks = ready.GetProperty("checks").EnumerateObject().Select(c => c.Name).Order().ToList();
        Assert.Equal(["background", "migrations", "postgres", "shutdown"], checks);
    }

    [Fact]
    public async Task Ready_is_503_while_migrations_are_pending()
    {
        await using var db = await TestDatabase.CreateAsync();
        await using var app = await TestApp.StartAsync(db, new() { ["Migrations:RunOnStart"] = "false" });

        var ready = await HttpAssert.JsonAsync(await app.Client.GetAsync("/api/health/ready"), HttpStatusCode.ServiceUnavailable);

        var migrations = ready.GetProperty("checks").GetProperty("migrations");
        Assert.Equal("Unhealthy", migrations.GetProperty("status").GetString());
        Assert.Contains("Migrations pending: 0001_maintenance", migrations.GetProperty("description").GetString(), StringComparison.Ordinal);
        Assert.Equal("Healthy", ready.GetProperty("checks").GetProperty("postgres").GetProperty("status").GetString());
    }

    [Fact]
    public async Task Ready_fails_when_a_background_loop_goes_silent()
    {
        await using var db = await TestDatabase.CreateAsync(migrate: true);
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var app = await TestApp.StartAsync(db, configure: b => b.Services.AddSingleton<TimeProvider>(time));
        var monitor = app.Services.GetRequiredService<BackgroundLoopMonitor>();
        monitor.Register("test-loop", TimeSpan.FromSeconds(5));

        await HttpAssert.JsonAsync(await app.Client.GetAsync("/api/health/ready"), HttpStatusCode.OK);
        time.Advance(TimeSpan.FromSeconds(16));
        var ready = await HttpAssert.JsonAsync(await app.Client.GetAsync("/api/health/ready"), HttpStatusCode.ServiceUnavailable);
        monitor.Beat("test-loop");
        await HttpAssert.JsonAsync(await app.Client.GetAsync("/api/health/ready"), HttpStatusCode.OK);

        Assert.Contains("test-loop", ready.GetProperty("checks").GetProperty("background").GetProperty("description").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ready_turns_503_as_soon_as_shutdown_begins_while_the_server_still_answers()
    {
        await using var db = await TestDatabase.CreateAsync(migrate: true);
        await using var app = await TestApp.StartAsync(db, new() { ["Http:ShutdownDrainSeconds"] = "30", ["Http:ShutdownTimeoutSeconds"] = "2" });
        await HttpAssert.JsonAsync(await app.Client.GetAsync("/api/health/ready"), HttpStatusCode.OK);

        var stopping = app.App.StopAsync(); // what SIGTERM sets off; the drain holds the server open
        var state = app.Services.GetRequiredService<ShutdownState>();
        await Eventually.TrueAsync(() => state.IsStopping);
        var ready = await HttpAssert.JsonAsync(await app.Client.GetAsync("/api/health/ready"), HttpStatusCode.ServiceUnavailable);
        var live = await app.Client.GetAsync("/api/health/live");

        Assert.Equal("Unhealthy", ready.GetProperty("checks").GetProperty("shutdown").GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        await stopping; // the 2 s shutdown timeout cuts the 30 s drain short
    }

    [Fact]
    public async Task The_detailed_view_says_what_runs_and_names_no_secret()
    {
        await using var db = await TestDatabase.CreateAsync(migrate: true);
        await using var app = await TestApp.StartAsync(db, new() { ["App:Slot"] = "staging" });

        var response = await app.Client.GetAsync("/api/health");
        var body = await response.Content.ReadAsStringAsync();
        var detail = await HttpAssert.JsonAsync(response, HttpStatusCode.OK);

        Assert.Equal("staging", detail.GetProperty("slot").GetString());
        Assert.Equal("Development", detail.GetProperty("environment").GetString());
        Assert.False(string.IsNullOrEmpty(detail.GetProperty("version").GetString()));
        Assert.False(string.IsNullOrEmpty(detail.GetProperty("commit").GetString()));
        Assert.Equal(["background", "cache", "durable", "migrations", "postgres", "queues", "rate-limits", "redis", "shutdown"], detail.GetProperty("checks").EnumerateObject().Select(c => c.Name).Order().ToArray());
        Assert.DoesNotContain(db.Password, body, StringComparison.Ordinal);
        if (Environment.GetEnvironmentVariable("Redis__Url") is { } redis && Core.Platform.Redis.RedisEndpoint.TryParse(redis, out var endpoint, out _) && endpoint.Password is { } secret)
        {
            Assert.DoesNotContain(secret, body, StringComparison.Ordinal);
        }

        Assert.DoesNotContain(db.Name, body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Health_endpoints_answer_only_get_and_head()
    {
        await using var app = await TestApp.StartAsync(database: null);

        var head = await app.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/api/health/live"));
        var post = await app.Client.PostAsync("/api/health/live", null);

        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        var problem = await HttpAssert.ProblemAsync(post, HttpStatusCode.MethodNotAllowed, "method-not-allowed");
        Assert.Equal("GET, HEAD", string.Join(", ", post.Content.Headers.Allow));
        Assert.Contains("GET, HEAD", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }
}
