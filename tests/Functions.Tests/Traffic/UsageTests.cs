using System.Net;
using AgentCrm.Core.Platform.Problems;
using AgentCrm.Core.Usage;
using AgentCrm.Functions.Tests.Infrastructure;
using Npgsql;

namespace AgentCrm.Functions.Tests.Traffic;

/// <summary>AI token accounting (exact, in the caller's transaction when given) and GET /api/usage.</summary>
public sealed class UsageTests(QuotaFixture fixture) : IClassFixture<QuotaFixture>
{
    private UsageLedger Ledger => fixture.App.Services.GetRequiredService<UsageLedger>();

    [Fact]
    public async Task Tokens_recorded_concurrently_add_up_exactly()
    {
        var (workspace, _) = await fixture.Seed.WorkspaceWithOwnerAsync("STARTER");
        await Task.WhenAll(Enumerable.Range(0, 40).Select(i =>
            Ledger.RecordAiTokensAsync(workspace, new AiUsage("contact-intelligence", "/v1/messages", "local-model", 100 + i, 50, 0.0015m), null, default)));

        var budget = await Ledger.GetAiBudgetAsync(workspace, "STARTER", default);
        Assert.Equal((40 * 150) + Enumerable.Range(0, 40).Sum(), budget.Used);
        Assert.Equal(500_000, budget.Limit);
        Assert.Equal(0.06m, await fixture.Db.ScalarAsync<decimal>($"SELECT sum(cost) FROM ai_usage WHERE workspace_id = '{workspace}'"));
    }

    [Fact]
    public async Task In_the_callers_transaction_the_usage_commits_or_rolls_back_with_it_and_a_step_is_billed_once()
    {
        var (workspace, _) = await fixture.Seed.WorkspaceWithOwnerAsync("STARTER");
        var step = Guid.NewGuid();
        var usage = new AiUsage("email-intelligence", "/v1/chat/completions", "gpt-x", 700, 300, 0.02m, step);

        await using var connection = await fixture.App.Services.GetRequiredService<AgentCrm.Core.Platform.Data.PostgresDataSources>().Pooled.OpenConnectionAsync();
        await using (var rolledBack = await ScopedTransactionAsync(connection, workspace))
        {
            Assert.True(await Ledger.RecordAiTokensAsync(workspace, usage, rolledBack, default));
            await rolledBack.RollbackAsync();
        }

        Assert.Equal(0, (await Ledger.GetAiBudgetAsync(workspace, "STARTER", default)).Used);

        await using (var committed = await ScopedTransactionAsync(connection, workspace))
        {
            Assert.True(await Ledger.RecordAiTokensAsync(workspace, usage, committed, default));
            await committed.CommitAsync();
        }

        Assert.False(await Ledger.RecordAiTokensAsync(workspace, usage, null, default)); // the retried step
        Assert.Equal(1000, (await Ledger.GetAiBudgetAsync(workspace, "STARTER", default)).Used);

        // A transaction scoped to another workspace cannot write this one's usage.
        var (other, _) = await fixture.Seed.WorkspaceWithOwnerAsync("STARTER");
        await using var wrong = await ScopedTransactionAsync(connection, other);
        await Assert.ThrowsAsync<PostgresException>(() => Ledger.RecordAiTokensAsync(workspace, usage with { Id = null }, wrong, default));
    }

    [Fact]
    public async Task The_daily_budget_refuses_a_call_that_would_pass_it_until_utc_midnight()
    {
        var (workspace, _) = await fixture.Seed.WorkspaceWithOwnerAsync(); // FREE: 1,000 tokens a day in this fixture
        await Ledger.RecordAiTokensAsync(workspace, new AiUsage("campaign-send", "/v1/messages", "local-model", 600, 300, 0.01m), null, default);

        Assert.Equal(100, (await Ledger.EnsureAiBudgetAsync(workspace, "FREE", 100, default)).Remaining);
        var refused = await Assert.ThrowsAsync<ProblemException>(() => Ledger.EnsureAiBudgetAsync(workspace, "FREE", 101, default));
        Assert.Equal(ProblemTypes.QuotaExceeded, refused.Type);
        Assert.Equal("ai-tokens", refused.Extensions!["quota"]);
        Assert.Equal(900L, refused.Extensions["used"]);
        Assert.Equal(TimeSpan.FromSeconds(fixture.SecondsToMidnight()), refused.RetryAfter);
    }

    [Fact]
    public async Task Usage_shows_todays_figures_against_each_limit()
    {
        var (workspace, owner) = await fixture.Seed.WorkspaceWithOwnerAsync("STARTER");
        foreach (var email in new[] { "a@example.test", "b@example.test" })
        {
            await HttpAssert.JsonAsync(await fixture.SendAsync(HttpMethod.Post, "/api/contacts", owner.Token, new { email }), HttpStatusCode.Created);
        }

        await HttpAssert.JsonAsync(await fixture.SendAsync(HttpMethod.Post, "/api/campaigns", owner.Token,
            new { name = "Launch", subject = "S", body = "<p>B</p>" }), HttpStatusCode.Created);
        await Ledger.RecordAiTokensAsync(workspace, new AiUsage("content-personalisation", "/v1/messages", "local-model", 200, 100, 0.003m), null, default);

        var response = await fixture.SendAsync(HttpMethod.Get, "/api/usage", owner.Token);
        var usage = await HttpAssert.JsonAsync(response, HttpStatusCode.OK);
        var now = fixture.Clock.GetUtcNow();
        var midnight = new DateTimeOffset(now.UtcDateTime.Date.AddDays(1), TimeSpan.Zero);

        Assert.Equal(workspace, usage.GetProperty("workspaceId").GetGuid());
        Assert.Equal("STARTER", usage.GetProperty("tier").GetString());
        Assert.Equal(now.UtcDateTime.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), usage.GetProperty("day").GetString());
        Assert.True(usage.GetProperty("enforced").GetBoolean());
        AssertFigure(usage.GetProperty("apiCalls"), used: 4, limit: 10_000, midnight); // two contacts, a campaign and this call
        AssertFigure(usage.GetProperty("aiTokens"), used: 300, limit: 500_000, midnight);
        AssertFigure(usage.GetProperty("contacts"), used: 2, limit: 3, resetsAt: null);
        AssertFigure(usage.GetProperty("campaigns"), used: 1, limit: 2, resetsAt: null);

        var viewer = await fixture.Seed.MemberAsync(workspace, AgentCrm.Core.Platform.Security.WorkspaceRole.Viewer);
        Assert.Equal(HttpStatusCode.OK, (await fixture.SendAsync(HttpMethod.Get, "/api/usage", viewer.Token)).StatusCode);
    }

    private static void AssertFigure(System.Text.Json.JsonElement figure, long used, long limit, DateTimeOffset? resetsAt)
    {
        Assert.Equal(used, figure.GetProperty("used").GetInt64());
        Assert.Equal(limit, figure.GetProperty("limit").GetInt64());
        Assert.Equal(limit - used, figure.GetProperty("remaining").GetInt64());
        if (resetsAt is null)
        {
            Assert.Equal(System.Text.Json.JsonValueKind.Null, figure.GetProperty("resetsAt").ValueKind);
        }
        else
        {
            Assert.Equal(resetsAt, figure.GetProperty("resetsAt").GetDateTimeOffset());
        }
    }

    private static async Task<NpgsqlTransaction> ScopedTransactionAsync(NpgsqlConnection connection, Guid workspace)
    {
        var transaction = await connection.BeginTransactionAsync();
        await using var scope = new NpgsqlCommand("SELECT set_config('app.workspace_id', $1, true)", connection, transaction);
        scope.Parameters.Add(new NpgsqlParameter { Value = workspace.ToString() });
        await scope.ExecuteScalarAsync();
        return transaction;
    }
}
