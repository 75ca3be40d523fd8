using System.Net;
using System.Text.Json;
using AgentCrm.Core.Platform.Data;
using AgentCrm.Core.Platform.Http;
using AgentCrm.Core.Platform.Maintenance;
using AgentCrm.Core.Platform.Security;
using AgentCrm.Functions.Access;
using AgentCrm.Functions.Tests.Infrastructure;
using Npgsql;

namespace AgentCrm.Functions.Tests.Platform;

public class IdempotencyTests
{
    public sealed record CountedBody(string Name, int DelayMs = 0, bool Fail = false);

    [Fact]
    public async Task A_repeat_replays_the_stored_response_without_running_again()
    {
        await using var t = await CountedApp.StartAsync();

        var first = await t.PostAsync(t.Owner, "key-1", new CountedBody("alpha"));
        var firstBody = await first.Content.ReadAsStringAsync();
        var replay = await t.PostAsync(t.Owner, "key-1", new CountedBody("alpha"));

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.False(first.Headers.Contains(IdempotencyMiddleware.ReplayedHeader));
        Assert.Equal(HttpStatusCode.Created, replay.StatusCode);
        Assert.Equal("true", replay.Headers.GetValues(IdempotencyMiddleware.ReplayedHeader).Single());
        Assert.Equal(firstBody, await replay.Content.ReadAsStringAsync());
        Assert.Equal(first.Headers.Location, replay.Headers.Location);
        Assert.Equal(first.Content.Headers.ContentType, replay.Content.Headers.ContentType);
        Assert.Equal(1, await t.ExecutionsAsync());

        var other = await t.PostAsync(t.Owner, "key-2", new CountedBody("alpha"));
        Assert.Equal(HttpStatusCode.Created, other.StatusCode);
        Assert.Equal(2, await t.ExecutionsAsync());
    }

    [Fact]
    public async Task The_same_key_with_a_different_body_is_a_422()
    {
        await using var t = await CountedApp.StartAsync();

        await t.PostAsync(t.Owner, "key-1", new CountedBody("alpha"));
        var different = await t.PostAsync(t.Owner, "key-1", new CountedBody("beta"));

        await HttpAssert.ProblemAsync(different, HttpStatusCode.UnprocessableEntity, "idempotency-key-reused");
        Assert.Equal(1, await t.ExecutionsAsync());
    }

    [Fact]
    public async Task Concurrent_duplicates_execute_once()
    {
        await using var t = await CountedApp.StartAsync();

        var responses = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ =>
            Task.Run(() => t.PostAsync(t.Owner, "same-key", new CountedBody("alpha", DelayMs: 400)))));

        Assert.Equal(1, await t.ExecutionsAsync());
        Assert.All(responses, r => Assert.True(r.StatusCode is HttpStatusCode.Created or HttpStatusCode.Conflict, $"got {(int)r.StatusCode}"));
        Assert.Contains(responses, r => r.StatusCode == HttpStatusCode.Created && !r.Headers.Contains(IdempotencyMiddleware.ReplayedHeader));
        var inUse = responses.First(r => r.StatusCode == HttpStatusCode.Conflict);
        await HttpAssert.ProblemAsync(inUse, HttpStatusCode.Conflict, "idempotency-key-in-use");
        Assert.Equal("1", inUse.Headers.GetValues("Retry-After").Single());

        var after = await t.PostAsync(t.Owner, "same-key", new CountedBody("alpha", DelayMs: 400));
        Assert.Equal(HttpStatusCode.Created, after.StatusCode);
        Assert.Equal(1, await t.ExecutionsAsync());
    }

    [Fact]
    public async Task Keys_belong_to_their_caller()
    {
        await using var t = await CountedApp.StartAsync();
        var colleague = await t.Seed.MemberAsync(t.WorkspaceId, WorkspaceRole.Member);

        var mine = await t.PostAsync(t.Owner, "shared-key", new CountedBody("alpha"));
        var theirs = await t.PostAsync(colleague, "shared-key", new CountedBody("alpha"));

        Assert.Equal(HttpStatusCode.Created, mine.StatusCode);
        Assert.Equal(HttpStatusCode.Created, theirs.StatusCode);
        Assert.False(theirs.Headers.Contains(IdempotencyMiddleware.ReplayedHeader));
        Assert.Equal(2, await t.ExecutionsAsync());
    }

    [Fact]
    public async Task Malformed_keys_are_400_and_requests_without_a_key_always_run()
    {
        await using var t = await CountedApp.StartAsync();

        await HttpAssert.ProblemAsync(await t.PostAsync(t.Owner, new string('k', 256), new CountedBody("alpha")), HttpStatusCode.BadRequest, "bad-request");
        await HttpAssert.ProblemAsync(await t.PostAsync(t.Owner, "tab\there", new CountedBody("alpha")), HttpStatusCode.BadRequest, "bad-request");
        Assert.Equal(HttpStatusCode.Created, (await t.PostAsync(t.Owner, new string('k', 255), new CountedBody("alpha"))).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await t.PostAsync(t.Owner, null, new CountedBody("alpha"))).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await t.PostAsync(t.Owner, null, new CountedBody("alpha"))).StatusCode);
        Assert.Equal(3, await t.ExecutionsAsync());
    }

    [Fact]
    public async Task A_server_error_is_not_stored_so_the_key_can_be_retried()
    {
        await using var t = await CountedApp.StartAsync();

        var failed = await t.PostAsync(t.Owner, "key-1", new CountedBody("alpha", Fail: true));
        var retried = await t.PostAsync(t.Owner, "key-1", new CountedBody("alpha", Fail: true));

        Assert.Equal(HttpStatusCode.InternalServerError, failed.StatusCode);
        Assert.Equal(HttpStatusCode.InternalServerError, retried.StatusCode);
        Assert.False(retried.Headers.Contains(IdempotencyMiddleware.ReplayedHeader));
        Assert.Equal(2, await t.ExecutionsAsync());
        Assert.Equal(0L, await t.Db.ScalarAsync<long>("SELECT count(*) FROM idempotency_keys"));
    }

    [Fact]
    public async Task An_expired_key_runs_again_and_housekeeping_purges_expired_keys()
    {
        await using var t = await CountedApp.StartAsync();
        await t.PostAsync(t.Owner, "key-1", new CountedBody("alpha"));
        await t.PostAsync(t.Owner, "key-2", new CountedBody("alpha"));
        Assert.Equal(24, await t.Db.ScalarAsync<int>("SELECT round(extract(epoch FROM expires_at - created_at) / 3600)::int FROM idempotency_keys LIMIT 1"));

        await t.OwnerSqlAsync("UPDATE idempotency_keys SET expires_at = now() - interval '1 second' WHERE key = 'key-1'");
        var again = await t.PostAsync(t.Owner, "key-1", new CountedBody("alpha"));
        Assert.False(again.Headers.Contains(IdempotencyMiddleware.ReplayedHeader));
        Assert.Equal(3, await t.ExecutionsAsync());

        await t.OwnerSqlAsync("UPDATE idempotency_keys SET expires_at = now() - interval '1 second' WHERE key = 'key-2'");
        var job = t.App.Services.GetServices<IHousekeepingJob>().OfType<IdempotencyKeyPurgeJob>().Single();
        Assert.Equal("Deleted 1 expired idempotency key(s).", await job.RunAsync(CancellationToken.None));
        Assert.Equal(["key-1"], await t.KeysAsync());
    }

    /// <summary>The real app plus one test endpoint that counts its executions in a table.</summary>
    private sealed class CountedApp : IAsyncDisposable
    {
        private CountedApp(TestDatabase db, TestApp app, TenantSeeder seed, Guid workspaceId, SeededUser owner)
        {
            Db = db;
            App = app;
            Seed = seed;
            WorkspaceId = workspaceId;
            Owner = owner;
        }

        public TestDatabase Db { get; }

        public TestApp App { get; }

        public TenantSeeder Seed { get; }

        public Guid WorkspaceId { get; }

        public SeededUser Owner { get; }

        public static async Task<CountedApp> StartAsync()
        {
            var db = await TestDatabase.CreateAsync(migrate: true);
            await using (var connection = new NpgsqlConnection(db.ConnectionString))
            {
                await connection.OpenAsync();
                await using var create = new NpgsqlCommand(
                    "CREATE TABLE test_counted (id serial PRIMARY KEY, name text NOT NULL); GRANT SELECT, INSERT ON test_counted TO agentcrm_app; GRANT USAGE ON SEQUENCE test_counted_id_seq TO agentcrm_app",
                    connection);
                await create.ExecuteNonQueryAsync();
            }

            var app = await TestApp.StartAsync(db, map: a => a.MapPost("/api/test/counted", async (CountedBody body, PostgresDataSources data, CancellationToken cancellationToken) =>
                {
                    await using var command = data.Pooled.CreateCommand("INSERT INTO test_counted (name) VALUES ($1) RETURNING id").Args(body.Name);
                    var id = (int)(await command.ExecuteScalarAsync(cancellationToken))!;
                    await Task.Delay(body.DelayMs, cancellationToken);
                    return body.Fail
                        ? Results.Problem(statusCode: 500)
                        : Results.Created($"/api/test/counted/{id}", new { id, body.Name });
                }).WithMetadata(new AccessRule("POST", "/api/test/counted", Audience.Workspace, WorkspaceRole.Member)));
            var seed = new TenantSeeder(db, app);
            var (ws, owner) = await seed.WorkspaceWithOwnerAsync();
            return new CountedApp(db, app, seed, ws, owner);
        }

        public Task<HttpResponseMessage> PostAsync(SeededUser user, string? key, CountedBody body)
        {
            var request = TenantSeeder.Request(HttpMethod.Post, "/api/test/counted", user.Token, body);
            if (key is not null)
            {
                request.Headers.TryAddWithoutValidation(IdempotencyMiddleware.HeaderName, key);
            }

            return App.Client.SendAsync(request);
        }

        public async Task<int> ExecutionsAsync() => (int)await Db.ScalarAsync<long>("SELECT count(*) FROM test_counted");

        public async Task<List<string>> KeysAsync()
        {
            await using var connection = new NpgsqlConnection(Db.ConnectionString);
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("SELECT key FROM idempotency_keys ORDER BY key", connection);
            await using var reader = await command.ExecuteReaderAsync();
            var keys = new List<string>();
            while (await reader.ReadAsync())
            {
                keys.Add(reader.GetString(0));
            }

            return keys;
        }

        public async Task OwnerSqlAsync(string sql)
        {
            await using var connection = new NpgsqlConnection(Db.ConnectionString);
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand(sql, connection);
            await command.ExecuteNonQueryAsync();
        }

        public async ValueTask DisposeAsync()
        {
            await App.DisposeAsync();
            await Db.DisposeAsync();
        }
    }
}
