using System.Net;
using System.Text;
using AgentCrm.Core.Platform.Maintenance;
using AgentCrm.Functions.Tests.Infrastructure;

namespace AgentCrm.Functions.Tests.CustomHandler;

/// <summary>The Functions host's non-HTTP protocol: POST /{Function} with {Data, Metadata}, answered {Outputs, Logs, ReturnValue}.</summary>
public class HostProtocolTests
{
    // What the host posts for a timer tick (TimerInfo serialised; Metadata.sys as the host fills it).
    private const string TimerPayload = """
        {"Data":{"timer":{"Schedule":{"AdjustForDST":true},"ScheduleStatus":{"Last":"2026-11-22T11:55:00+00:00","Next":"2026-11-22T12:05:00+00:00","LastUpdated":"2026-11-22T11:55:00+00:00"},"IsPastDue":false}},
         "Metadata":{"sys":{"MethodName":"Maintenance","UtcNow":"2026-11-22T12:00:00.0012345Z","RandGuid":"24ad4c06-24ad-4e5b-8294-3da9714877e9"}}}
        """;

    [Fact]
    public async Task A_timer_tick_runs_the_housekeeping_jobs_and_answers_in_the_hosts_shape()
    {
        await using var db = await TestDatabase.CreateAsync(migrate: true);
        await using var app = await TestApp.StartAsync(db);

        var response = await Invoke(app, TimerPayload);
        var body = await HttpAssert.JsonAsync(response, HttpStatusCode.OK);

        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Empty(body.GetProperty("Outputs").EnumerateObject());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, body.GetProperty("ReturnValue").ValueKind);
        Assert.Contains(body.GetProperty("Logs").EnumerateArray(), l => l.GetString()!.StartsWith("maintenance.prune-history: succeeded", StringComparison.Ordinal));
        Assert.Equal("succeeded", await db.ScalarAsync<string>("SELECT outcome FROM maintenance_job_runs WHERE job = 'maintenance.prune-history'"));
        Assert.Null(await db.ScalarAsync<string>("SELECT lease_owner FROM maintenance_jobs WHERE name = 'maintenance.prune-history'"));
    }

    [Theory]
    [InlineData("""{"Data":{"timer":"{\"IsPastDue\":true}"},"Metadata":{}}""")]
    [InlineData("""{"Data":{"timer":"\"{\\\"IsPastDue\\\":true}\""},"Metadata":{}}""")]
    [InlineData("""{"Data":{"timer":{"IsPastDue":true}},"Metadata":{},"SomethingNewFromTheHost":1}""")]
    public async Task Inputs_arrive_as_json_or_as_json_encoded_once_or_twice(string payload)
    {
        await using var db = await TestDatabase.CreateAsync(migrate: true);
        await using var app = await TestApp.StartAsync(db);

        var body = await HttpAssert.JsonAsync(await Invoke(app, payload), HttpStatusCode.OK);

        Assert.Equal("Timer is past due; running now.", body.GetProperty("Logs")[0].GetString());
    }

    [Fact]
    public async Task Old_housekeeping_history_is_pruned()
    {
        await using var db = await TestDatabase.CreateAsync(migrate: true);
        await db.ScalarAsync<int>("""
            INSERT INTO maintenance_job_runs (job, instance, started_at, finished_at, outcome)
            VALUES ('x', 'old', now() - interval '40 days', now() - interval '40 days', 'succeeded'),
                   ('x', 'recent', now() - interval '1 day', now() - interval '1 day', 'succeeded')
            """);
        await using var app = await TestApp.StartAsync(db);

        await HttpAssert.JsonAsync(await Invoke(app, TimerPayload), HttpStatusCode.OK);

        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM maintenance_job_runs WHERE instance = 'old'"));
        Assert.Equal(1L, await db.ScalarAsync<long>("SELECT count(*) FROM maintenance_job_runs WHERE instance = 'recent'"));
    }

    [Fact]
    public async Task With_background_work_switched_off_the_slot_runs_nothing()
    {
        await using var db = await TestDatabase.CreateAsync(migrate: true);
        await using var app = await TestApp.StartAsync(db, new() { ["Background:Enabled"] = "false" });

        var body = await HttpAssert.JsonAsync(await Invoke(app, TimerPayload), HttpStatusCode.OK);

        Assert.Contains("switched off", body.GetProperty("Logs")[0].GetString(), StringComparison.Ordinal);
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM maintenance_job_runs"));
    }

    [Fact]
    public async Task A_failing_job_fails_the_invocation_after_the_other_jobs_ran()
    {
        await using var db = await TestDatabase.CreateAsync(migrate: true);
        await using var app = await TestApp.StartAsync(db, configure: b => b.Services.AddSingleton<IHousekeepingJob, FailingJob>());

        var problem = await HttpAssert.ProblemAsync(await Invoke(app, TimerPayload), HttpStatusCode.InternalServerError, "invocation-failed");

        Assert.Contains("test.failing", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Contains(problem.GetProperty("logs").EnumerateArray(), l => l.GetString()!.Contains("disk on fire", StringComparison.Ordinal));
        Assert.Equal("failed", await db.ScalarAsync<string>("SELECT last_outcome FROM maintenance_jobs WHERE name = 'test.failing'"));
        Assert.Equal("succeeded", await db.ScalarAsync<string>("SELECT last_outcome FROM maintenance_jobs WHERE name = 'maintenance.prune-history'"));
    }

    [Fact]
    public async Task Two_overlapping_ticks_never_run_the_same_job_twice()
    {
        await using var db = await TestDatabase.CreateAsync(migrate: true);
        var gate = new GatedJob();
        await using var app = await TestApp.StartAsync(db, configure: b => b.Services.AddSingleton<IHousekeepingJob>(gate));

        var first = Invoke(app, TimerPayload);
        await gate.Entered.Task.WaitAsync(TimeSpan.FromSeconds(10));
        var second = await HttpAssert.JsonAsync(await Invoke(app, TimerPayload), HttpStatusCode.OK);
        gate.Release.SetResult();
        await HttpAssert.JsonAsync(await first, HttpStatusCode.OK);

        Assert.Contains(second.GetProperty("Logs").EnumerateArray(), l => l.GetString()!.StartsWith("test.gated: skipped", StringComparison.Ordinal));
        Assert.Equal(1, gate.Runs);
    }

    [Fact]
    public async Task A_payload_with_missing_fields_is_a_validation_problem_naming_them()
    {
        await using var app = await TestApp.StartAsync(database: null);

        var problem = await HttpAssert.ProblemAsync(await Invoke(app, """{"Metadata":[]}"""), HttpStatusCode.BadRequest, "validation");
        var missingTrigger = await HttpAssert.ProblemAsync(await Invoke(app, """{"Data":{},"Metadata":{}}"""), HttpStatusCode.BadRequest, "validation");

        Assert.True(problem.GetProperty("errors").TryGetProperty("Data", out _));
        Assert.True(problem.GetProperty("errors").TryGetProperty("Metadata", out _));
        Assert.True(missingTrigger.GetProperty("errors").TryGetProperty("Data.timer", out _));
    }

    [Fact]
    public async Task An_empty_or_broken_payload_is_a_problem_not_a_crash()
    {
        await using var app = await TestApp.StartAsync(database: null);

        await HttpAssert.ProblemAsync(await Invoke(app, ""), HttpStatusCode.BadRequest, "bad-request");
        await HttpAssert.ProblemAsync(await Invoke(app, "{\"Data\":"), HttpStatusCode.BadRequest, "malformed-json");
        await HttpAssert.ProblemAsync(await Invoke(app, "[1,2]"), HttpStatusCode.BadRequest, "malformed-json");
        Assert.Equal(HttpStatusCode.OK, (await app.Client.GetAsync("/api/health/live")).StatusCode);
    }

    [Fact]
    public async Task Host_functions_are_unreachable_under_the_public_prefix()
    {
        await using var app = await TestApp.StartAsync(database: null);

        await HttpAssert.ProblemAsync(await app.Client.PostAsync("/api/Maintenance", Json(TimerPayload)), HttpStatusCode.NotFound, "not-found");
    }

    [Fact]
    public async Task The_hosts_readiness_probe_gets_a_cheap_answer()
    {
        await using var app = await TestApp.StartAsync(database: null);

        var response = await app.Client.GetAsync("/");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private static Task<HttpResponseMessage> Invoke(TestApp app, string payload)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/Maintenance") { Content = Json(payload) };
        request.Headers.Add("X-Azure-Functions-InvocationId", Guid.NewGuid().ToString());
        request.Headers.UserAgent.ParseAdd("Azure-Functions-Host/4.1045.200");
        return app.Client.SendAsync(request);
    }

    private static StringContent Json(string payload) => new(payload, Encoding.UTF8, "application/json");

    private sealed class FailingJob : IHousekeepingJob
    {
        public string Name => "test.failing";

        public TimeSpan Lease => TimeSpan.FromMinutes(1);

        public Task<string> RunAsync(CancellationToken cancellationToken) => throw new IOException("disk on fire");
    }

    private sealed class GatedJob : IHousekeepingJob
    {
        private int _runs;

        public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int Runs => _runs;

        public string Name => "test.gated";

        public TimeSpan Lease => TimeSpan.FromMinutes(1);

        public async Task<string> RunAsync(CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _runs);
            Entered.TrySetResult();
            await Release.Task.WaitAsync(cancellationToken);
            return "ran";
        }
    }
}
