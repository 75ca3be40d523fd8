using System.Net;
using AgentCrm.Functions.Tests.Infrastructure;

namespace AgentCrm.Functions.Tests.Processes;

public class StartupTests
{
    [Fact]
    public async Task Bad_configuration_exits_78_with_one_message_listing_every_problem()
    {
        await using var process = AppProcess.Start(new Dictionary<string, string?>
        {
            ["Postgres__Pooled"] = "Host=db;Password=super-secret-pw;Bogus Keyword=1",
            ["Http__MaxRequestBodyBytes"] = "lots",
            ["Background__Enabled"] = "maybe",
            ["FUNCTIONS_CUSTOMHANDLER_PORT"] = "99999",
        });

        var exitCode = await process.WaitForExitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(78, exitCode);
        var stderr = string.Join('\n', process.Stderr);
        Assert.StartsWith("AgentCrm cannot start: 4 configuration problems.", stderr, StringComparison.Ordinal);
        Assert.Contains("Postgres:Pooled (env Postgres__Pooled): is not a valid PostgreSQL connection string", stderr, StringComparison.Ordinal);
        Assert.Contains("Http:MaxRequestBodyBytes (env Http__MaxRequestBodyBytes)", stderr, StringComparison.Ordinal);
        Assert.Contains("Background:Enabled (env Background__Enabled)", stderr, StringComparison.Ordinal);
        Assert.Contains("FUNCTIONS_CUSTOMHANDLER_PORT: must be a whole number from 1 to 65535", stderr, StringComparison.Ordinal);
        Assert.Contains("Example:", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("super-secret-pw", process.AllOutput, StringComparison.Ordinal);
        Assert.DoesNotContain(" at ", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_required_setting_is_named()
    {
        await using var process = AppProcess.Start(new Dictionary<string, string?> { ["Postgres__Pooled"] = null });

        Assert.Equal(78, await process.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains("Postgres:Pooled (env Postgres__Pooled): is missing. Example: Host=", string.Join('\n', process.Stderr), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Under_the_functions_host_it_serves_loopback_on_the_given_port()
    {
        await using var db = await TestDatabase.CreateAsync(migrate: true);
        var port = AppProcess.FreePort();
        await using var process = AppProcess.Start(new Dictionary<string, string?>
        {
            ["Postgres__Pooled"] = db.ConnectionString,
            ["FUNCTIONS_CUSTOMHANDLER_PORT"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["FUNCTIONS_CUSTOMHANDLER_WORKER_ID"] = Guid.NewGuid().ToString(),
        }, args: ["--urls", $"http://127.0.0.1:{port}"]);
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };

        await process.WaitForLineAsync(l => l.Contains("AgentCrm listening on", StringComparison.Ordinal), TimeSpan.FromSeconds(30));

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/health/ready")).StatusCode);
        Assert.Contains($"http://127.0.0.1:{port}", process.AllOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_migration_failure_at_start_exits_1_with_the_runners_message()
    {
        await using var db = await TestDatabase.CreateAsync(migrate: true);
        await db.ScalarAsync<int>("UPDATE schema_migrations SET checksum = 'tampered' WHERE version = 1");
        await using var process = AppProcess.Start(new Dictionary<string, string?>
        {
            ["Postgres__Pooled"] = db.ConnectionString,
            ["Migrations__RunOnStart"] = "true",
            ["urls"] = $"http://127.0.0.1:{AppProcess.FreePort()}",
        });

        Assert.Equal(1, await process.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains("AgentCrm cannot start: Migration 0001_maintenance.sql was changed after it was applied", string.Join('\n', process.Stderr), StringComparison.Ordinal);
    }
}
