using System.Diagnostics;
using System.Net;
using System.Text.Json;
using AgentCrm.Functions.Tests.Infrastructure;

namespace AgentCrm.Functions.Tests.Processes;

public class ShutdownAndLogTests
{
    [Fact]
    public async Task Sigterm_fails_readiness_at_once_lets_in_flight_requests_finish_then_exits_0()
    {
        await using var db = await TestDatabase.CreateAsync(migrate: true);
        var port = AppProcess.FreePort();
        await using var process = AppProcess.Start(new Dictionary<string, string?>
        {
            ["Postgres__Pooled"] = db.ConnectionString,
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
            ["Migrations__RunOnStart"] = "false",
            ["Diagnostics__TestEndpoints"] = "true",
            ["Http__ShutdownDrainSeconds"] = "1",
            ["Http__ShutdownTimeoutSeconds"] = "10",
            ["urls"] = $"http://127.0.0.1:{port}",
        });
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        await process.WaitForLineAsync(l => l.Contains("AgentCrm listening on", StringComparison.Ordinal), TimeSpan.FromSeconds(30));

        var inFlight = client.GetAsync("/api/_diagnostics/delay?ms=2500");
        await process.WaitForLineAsync(l => l.Contains("Diagnostics delay of 2500 ms started", StringComparison.Ordinal), TimeSpan.FromSeconds(10));
        var signalled = Stopwatch.StartNew();
        process.SendSigterm();
        await process.WaitForLineAsync(l => l.Contains("Shutdown requested", StringComparison.Ordinal), TimeSpan.FromSeconds(10));
        using var fresh = new HttpClient { BaseAddress = client.BaseAddress };
        var ready = await fresh.GetAsync("/api/health/ready");
        var slow = await inFlight;
        var exitCode = await process.WaitForExitAsync(TimeSpan.FromSeconds(15));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.Equal(HttpStatusCode.OK, slow.StatusCode);
        Assert.Equal(0, exitCode);
        Assert.True(signalled.Elapsed < TimeSpan.FromSeconds(10), $"took {signalled.Elapsed} to stop");
    }

    [Fact]
    public async Task Logs_are_json_lines_with_request_fields_and_never_a_secret()
    {
        await using var db = await TestDatabase.CreateAsync(migrate: true);
        var port = AppProcess.FreePort();
        await using var process = AppProcess.Start(new Dictionary<string, string?>
        {
            ["Postgres__Pooled"] = db.ConnectionString,
            ["urls"] = $"http://127.0.0.1:{port}",
        });
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        await process.WaitForLineAsync(l => l.Contains("AgentCrm listening on", StringComparison.Ordinal), TimeSpan.FromSeconds(30));

        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/nothing-here");
        request.Headers.Add("X-Request-ID", "log-test-1");
        request.Headers.Add("traceparent", "00-11112222333344445555666677778888-0102030405060708-01");
        await client.SendAsync(request);
        var line = await process.WaitForLineAsync(l => l.Contains("log-test-1", StringComparison.Ordinal) && l.Contains("answered", StringComparison.Ordinal), TimeSpan.FromSeconds(10));

        using var json = JsonDocument.Parse(line);
        var entry = json.RootElement;
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", entry.GetProperty("timestamp").GetString());
        Assert.Equal("Information", entry.GetProperty("level").GetString());
        Assert.Equal("log-test-1", entry.GetProperty("requestId").GetString());
        Assert.Equal("11112222333344445555666677778888", entry.GetProperty("traceId").GetString());
        Assert.Equal("/api/nothing-here", entry.GetProperty("route").GetString());
        Assert.Equal(404, entry.GetProperty("statusCode").GetInt32());
        Assert.True(entry.GetProperty("durationMs").GetDouble() > 0);
        Assert.All(process.Stdout, l => JsonDocument.Parse(l).Dispose()); // every stdout line is JSON
        Assert.DoesNotContain(db.Password, process.AllOutput, StringComparison.Ordinal);
    }
}
