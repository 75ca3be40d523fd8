using System.Net;
using System.Security.Cryptography;
using System.Text;
using AgentCrm.Core.Audit;
using AgentCrm.Core.Platform.Maintenance;
using AgentCrm.Functions.Tests.Infrastructure;
using Npgsql;

namespace AgentCrm.Functions.Tests.Audit;

public class AuditChainTests
{
    private static readonly byte[] Genesis = new byte[32];

    [Fact]
    public async Task Each_row_hashes_its_predecessor_and_its_contents()
    {
        await using var db = await TestDatabase.CreateAsync(migrate: true);
        await using var app = await TestApp.StartAsync(db);
        var ws = Guid.NewGuid();
        for (var i = 0; i < 5; i++)
        {
            await AuditSql.AppendAsync(app, ws, note: $"n{i}");
        }

        await AuditSql.AppendAsync(app, null, AuditEvents.FailedLogin); // the platform chain

        // The canonical text comes from SQL; the hashing is done here, independently of app.audit_row_hash.
        var rows = await AuditSql.QueryAsync(db.ConnectionString, """
            SELECT seq, prev_hash, hash, convert_to(jsonb_build_array(workspace_id, seq, id,
                   to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), event, actor_user_id, actor_key_id, ip, request_id, details)::text, 'UTF8')
            FROM audit_log WHERE workspace_id = $1 ORDER BY seq
            """, r => (Seq: r.GetInt64(0), Prev: r.GetFieldValue<byte[]>(1), Hash: r.GetFieldValue<byte[]>(2), Canonical: r.GetFieldValue<byte[]>(3)), ws);

        Assert.Equal([1L, 2, 3, 4, 5], rows.Select(r => r.Seq));
        var previous = Genesis;
        foreach (var row in rows)
        {
            Assert.Equal(previous, row.Prev);
            Assert.Equal(SHA256.HashData([.. row.Prev, .. row.Canonical]), row.Hash);
            previous = row.Hash;
        }

        Assert.Contains("\"note\": \"n4\"", Encoding.UTF8.GetString(rows[^1].Canonical), StringComparison.Ordinal);
        var platform = await AuditSql.QueryAsync(db.ConnectionString, "SELECT seq FROM audit_log WHERE workspace_id = '00000000-0000-0000-0000-000000000000'", r => r.GetInt64(0));
        Assert.Equal([1L], platform);
    }

    [Fact]
    public async Task Concurrent_appends_to_one_workspace_give_a_gapless_valid_chain()
    {
        await using var db = await TestDatabase.CreateAsync(migrate: true);
        await using var app = await TestApp.StartAsync(db);
        var ws = Guid.NewGuid();
        var other = Guid.NewGuid();

        await Task.WhenAll(Enumerable.Range(0, 40).Select(i => Task.Run(() => AuditSql.AppendAsync(app, i % 4 == 0 ? other : ws, note: $"n{i}"))));

        var seqs = await AuditSql.QueryAsync(db.ConnectionString, "SELECT seq FROM audit_log WHERE workspace_id = $1 ORDER BY seq", r => r.GetInt64(0), ws);
        Assert.Equal(Enumerable.Range(1, 30).Select(i => (long)i), seqs);
        await using var sources = db.DataSources();
        var chains = await AuditVerifier.VerifyAsOwnerAsync(sources.Owner, null, CancellationToken.None);
        Assert.Equal(2, chains.Count);
        Assert.All(chains, c => Assert.True(c.Valid, c.Reason));
        Assert.Equal(40, chains.Sum(c => c.Checked));
    }

    [Fact]
    public async Task The_app_may_not_change_rows_and_the_trigger_refuses_even_the_owner()
    {
        await using var db = await TestDatabase.CreateAsync(migrate: true);
        await using var app = await TestApp.StartAsync(db);
        var ws = Guid.NewGuid();
        await AuditSql.AppendAsync(app, ws);

        foreach (var sql in new[]
        {
            "UPDATE audit_log SET event = 'auth.login'",
            "DELETE FROM audit_log",
            "INSERT INTO audit_log (workspace_id, seq, id, occurred_at, event, prev_hash, hash) VALUES (gen_random_uuid(), 1, gen_random_uuid(), now(), 'auth.login', '\\x00', '\\x00')",
            "UPDATE audit_heads SET seq = 0",
        })
        {
            var denied = await Assert.ThrowsAsync<PostgresException>(() => AuditSql.ExecuteAsync(db.AppConnectionString, sql));
            Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, denied.SqlState);
            Assert.Contains("permission denied", denied.MessageText, StringComparison.Ordinal);
        }

        foreach (var sql in new[] { "UPDATE audit_log SET event = 'auth.login'", "DELETE FROM audit_log", "TRUNCATE audit_log", "TRUNCATE audit_anchors" })
        {
            var refused = await Assert.ThrowsAsync<PostgresException>(() => AuditSql.ExecuteAsync(db.ConnectionString, sql));
            Assert.Contains("is append-only", refused.MessageText, StringComparison.Ordinal);
        }

        Assert.Equal(1L, await db.ScalarAsync<long>("SELECT count(*) FROM audit_log"));
    }

    [Fact]
    public async Task A_tampered_row_is_named_by_the_endpoint_and_the_cli()
    {
        await using var db = await TestDatabase.CreateAsync(migrate: true);
        await using var app = await TestApp.StartAsync(db);
        var seed = new TenantSeeder(db, app);
        var (ws, owner) = await seed.WorkspaceWithOwnerAsync();
        var (otherWs, _) = await seed.WorkspaceWithOwnerAsync();
        for (var i = 0; i < 5; i++)
        {
            await AuditSql.AppendAsync(app, ws, note: $"n{i}");
        }

        await AuditSql.AppendAsync(app, otherWs);

        var before = await HttpAssert.JsonAsync(await app.Client.SendAsync(TenantSeeder.Request(HttpMethod.Post, "/api/audit/verify", owner.Token)), HttpStatusCode.OK);
        Assert.True(before.GetProperty("valid").GetBoolean());

        await AuditSql.ExecuteAsync(db.ConnectionString, """
            ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only;
            UPDATE audit_log SET details = '{"note": "rewritten"}' WHERE workspace_id = $1 AND seq = 3;
            ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only;
            """.Replace("$1", $"'{ws}'", StringComparison.Ordinal));

        var after = await HttpAssert.JsonAsync(await app.Client.SendAsync(TenantSeeder.Request(HttpMethod.Post, "/api/audit/verify", owner.Token)), HttpStatusCode.OK);
        Assert.False(after.GetProperty("valid").GetBoolean());
        Assert.Equal(3, after.GetProperty("firstBrokenSeq").GetInt64());
        Assert.Contains("hash", after.GetProperty("reason").GetString(), StringComparison.Ordinal);

        var env = new Dictionary<string, string?> { ["Postgres__Pooled"] = db.AppConnectionString, ["Postgres__Owner"] = db.ConnectionString };
        var (allExit, all) = await RunCli(env, "audit-verify");
        Assert.Equal(1, allExit);
        Assert.Contains($"{ws}: BROKEN at seq 3", all, StringComparison.Ordinal);
        Assert.Contains($"{otherWs}: valid", all, StringComparison.Ordinal);

        var (otherExit, otherOutput) = await RunCli(env, "audit-verify", "--workspace", otherWs.ToString());
        Assert.Equal(0, otherExit);
        Assert.Contains("All 1 audit chain(s) verify.", otherOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Retention_removes_old_rows_anchors_the_last_one_and_the_chain_still_verifies()
    {
        await using var db = await TestDatabase.CreateAsync(migrate: true);
        await using var app = await TestApp.StartAsync(db, new() { ["Audit:RetentionDays"] = "30" });
        var seed = new TenantSeeder(db, app);
        var (ws, owner) = await seed.WorkspaceWithOwnerAsync();
        var now = DateTimeOffset.UtcNow;
        for (var i = 0; i < 4; i++)
        {
            await AuditSql.AppendAtAsync(db, ws, now.AddDays(-60 + i), $"old{i}");
        }

        await AuditSql.AppendAtAsync(db, ws, now.AddDays(-1), "recent");
        await AuditSql.AppendAtAsync(db, ws, now.AddDays(-90), "late-written old row"); // behind a kept row: stays
        var untouched = Guid.NewGuid();
        await AuditSql.AppendAtAsync(db, untouched, now, "new");

        var job = app.Services.GetServices<IHousekeepingJob>().OfType<AuditRetentionJob>().Single();
        var summary = await job.RunAsync(CancellationToken.None);
        var again = await job.RunAsync(CancellationToken.None);

        Assert.Contains("Pruned 4 audit row(s)", summary, StringComparison.Ordinal);
        Assert.Contains("Pruned 0 audit row(s)", again, StringComparison.Ordinal);
        Assert.Equal([5L, 6], await AuditSql.QueryAsync(db.ConnectionString, "SELECT seq FROM audit_log WHERE workspace_id = $1 ORDER BY seq", r => r.GetInt64(0), ws));
        var anchor = Assert.Single(await AuditSql.QueryAsync(db.ConnectionString, "SELECT seq, pruned_rows FROM audit_anchors WHERE workspace_id = $1", r => (r.GetInt64(0), r.GetInt64(1)), ws));
        Assert.Equal((4L, 4L), anchor);

        await AuditSql.AppendAsync(app, ws);
        var verified = await HttpAssert.JsonAsync(await app.Client.SendAsync(TenantSeeder.Request(HttpMethod.Post, "/api/audit/verify", owner.Token)), HttpStatusCode.OK);
        Assert.True(verified.GetProperty("valid").GetBoolean(), verified.ToString());
        Assert.Equal(3, verified.GetProperty("checked").GetInt64()); // 5, 6 and 7; this call's api.request is appended after it answers
    }

    private static async Task<(int Exit, string Output)> RunCli(Dictionary<string, string?> env, params string[] args)
    {
        await using var process = AppProcess.Start(env, args: args);
        var exit = await process.WaitForExitAsync(TimeSpan.FromSeconds(60));
        return (exit, process.AllOutput);
    }
}
