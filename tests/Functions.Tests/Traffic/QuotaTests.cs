using System.Diagnostics;
using System.Net;
using AgentCrm.Core.Platform.Maintenance;
using AgentCrm.Core.Platform.RateLimiting;
using AgentCrm.Core.Platform.Redis;
using AgentCrm.Core.Usage;
using AgentCrm.Functions.Tests.Infrastructure;
using Npgsql;
using static AgentCrm.Functions.Tests.Traffic.TrafficFixture;

namespace AgentCrm.Functions.Tests.Traffic;

/// <summary>Small quotas, so they can be used up: FREE gets 5 API calls a day and 1,000 AI tokens; STARTER 3 contacts and 2 campaigns.</summary>
public sealed class QuotaFixture : TrafficFixture
{
    public const int MembershipTtlSeconds = 2;

    protected override Dictionary<string, string?> Settings => new()
    {
        ["Quotas:Free:ApiCallsPerDay"] = "5",
        ["Quotas:Free:AiTokensPerDay"] = "1000",
        ["Quotas:Starter:MaxContacts"] = "3",
        ["Quotas:Starter:MaxCampaigns"] = "2",
        // The membership (and so the tier) is cached for this long once the cache lands; a tier change must show within it.
        ["Cache:MembershipSeconds"] = $"{MembershipTtlSeconds}",
    };
}

public sealed class QuotaTests(QuotaFixture fixture) : IClassFixture<QuotaFixture>
{
    [Fact]
    public async Task Past_the_days_api_calls_a_429_names_the_quota_limit_and_reset_and_the_next_day_starts_again()
    {
        var (workspace, owner) = await fixture.Seed.WorkspaceWithOwnerAsync();
        for (var i = 1; i <= 5; i++)
        {
            var allowed = await fixture.SendAsync(HttpMethod.Get, "/api/dashboard", owner.Token);
            Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
            Assert.EndsWith($"\"api-calls\";r={5 - i};t={fixture.SecondsToMidnight()}", Header(allowed, "RateLimit"), StringComparison.Ordinal);
        }

        var refused = await fixture.SendAsync(HttpMethod.Get, "/api/dashboard", owner.Token);
        var problem = await HttpAssert.ProblemAsync(refused, HttpStatusCode.TooManyRequests, "quota-exceeded");
        var midnight = new DateTimeOffset(fixture.Clock.GetUtcNow().UtcDateTime.Date.AddDays(1), TimeSpan.Zero);
        Assert.Equal(TimeSpan.FromSeconds(fixture.SecondsToMidnight()), refused.Headers.RetryAfter?.Delta);
        Assert.Equal("api-calls", problem.GetProperty("quota").GetString());
        Assert.Equal(5, problem.GetProperty("limit").GetInt64());
        Assert.Equal(5, problem.GetProperty("used").GetInt64());
        Assert.Equal("FREE", problem.GetProperty("tier").GetString());
        Assert.Equal(midnight, problem.GetProperty("resetsAt").GetDateTimeOffset());
        Assert.Contains($"resets at {midnight:yyyy-MM-ddTHH:mm:ssZ} (UTC midnight)", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.EndsWith($"\"api-calls\";r=0;t={fixture.SecondsToMidnight()}", Header(refused, "RateLimit"), StringComparison.Ordinal);
        Assert.Equal("95", Header(refused, "X-RateLimit-Remaining")); // five spent; a refusal for quota spends no rate

        var (_, other) = await fixture.Seed.WorkspaceWithOwnerAsync();
        Assert.Equal(HttpStatusCode.OK, (await fixture.SendAsync(HttpMethod.Get, "/api/dashboard", other.Token)).StatusCode);

        fixture.Clock.Advance(TimeSpan.FromSeconds(fixture.SecondsToMidnight() + 1));
        var tomorrow = await fixture.SendAsync(HttpMethod.Get, "/api/dashboard", fixture.Seed.Token(owner.Id, workspace));
        Assert.Equal(HttpStatusCode.OK, tomorrow.StatusCode);
        Assert.EndsWith($"\"api-calls\";r=4;t={fixture.SecondsToMidnight()}", Header(tomorrow, "RateLimit"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_flush_copies_totals_to_postgres_and_counts_nothing_twice_when_run_again_or_interrupted()
    {
        var (workspace, owner) = await fixture.Seed.WorkspaceWithOwnerAsync("STARTER");
        await CallsAsync(owner.Token, 3);
        await FlushAsync();
        Assert.Equal(3, await FlushedAsync(workspace));
        await FlushAsync();
        Assert.Equal(3, await FlushedAsync(workspace));

        await CallsAsync(owner.Token, 2);
        // A flush that dies half-way: its write waits on a row lock and is cancelled, so its transaction rolls back.
        await using (var blocker = new NpgsqlConnection(fixture.Db.ConnectionString))
        {
            await blocker.OpenAsync();
            await using var transaction = await blocker.BeginTransactionAsync();
            await using (var lockRow = new NpgsqlCommand("SELECT 1 FROM usage_daily WHERE workspace_id = $1 FOR UPDATE", blocker, transaction))
            {
                lockRow.Parameters.Add(new NpgsqlParameter { Value = workspace });
                await lockRow.ExecuteScalarAsync();
            }

            using var interrupted = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));
            await Assert.ThrowsAnyAsync<Exception>(() => Job().RunAsync(interrupted.Token));
            await transaction.RollbackAsync();
        }

        Assert.Equal(3, await FlushedAsync(workspace));
        await FlushAsync();
        Assert.Equal(5, await FlushedAsync(workspace));
        await FlushAsync();
        Assert.Equal(5, await FlushedAsync(workspace));
    }

    [Fact]
    public async Task A_counter_redis_lost_is_seeded_from_the_flushed_total_so_only_the_unflushed_calls_are_lost()
    {
        var (workspace, owner) = await fixture.Seed.WorkspaceWithOwnerAsync("STARTER");
        await CallsAsync(owner.Token, 4);
        await FlushAsync();
        await CallsAsync(owner.Token, 3); // counted in Redis, not yet flushed

        var redis = fixture.App.Services.GetRequiredService<IRedisClient>();
        await fixture.App.Services.GetRequiredService<RateLimiter>().FlushAsync(default);
        Assert.Equal(1, await redis.DeleteAsync([UsageKeys.ApiCalls(workspace, UsageKeys.Day(fixture.Clock.GetUtcNow()))]));
        fixture.Clock.Advance(TimeSpan.FromSeconds(2)); // past the in-process copy's freshness, so Redis decides and finds the counter gone

        var response = await fixture.SendAsync(HttpMethod.Get, "/api/dashboard", owner.Token);
        Assert.EndsWith($"\"api-calls\";r={10_000 - 5};t={fixture.SecondsToMidnight()}", Header(response, "RateLimit"), StringComparison.Ordinal);
        var usage = await HttpAssert.JsonAsync(await fixture.SendAsync(HttpMethod.Get, "/api/usage", owner.Token), HttpStatusCode.OK);
        Assert.Equal(6, usage.GetProperty("apiCalls").GetProperty("used").GetInt64()); // 4 flushed + this call and the one before; the 3 unflushed are gone
    }

    [Fact]
    public async Task Contacts_and_campaigns_stop_at_the_tiers_maximum_and_free_up_when_one_is_deleted()
    {
        var (_, owner) = await fixture.Seed.WorkspaceWithOwnerAsync("STARTER");
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            ids.Add((await CreateContactAsync(owner.Token, i, HttpStatusCode.Created)).GetProperty("id").GetString()!);
        }

        var refused = await fixture.SendAsync(HttpMethod.Post, "/api/contacts", owner.Token, new { email = "four@example.test" });
        var problem = await HttpAssert.ProblemAsync(refused, HttpStatusCode.Forbidden, "tier-limit-reached");
        Assert.Equal("contacts", problem.GetProperty("limit").GetString());
        Assert.Equal(3, problem.GetProperty("max").GetInt32());
        Assert.Equal("STARTER", problem.GetProperty("tier").GetString());

        Assert.Equal(HttpStatusCode.NoContent, (await fixture.SendAsync(HttpMethod.Delete, $"/api/contacts/{ids[0]}", owner.Token)).StatusCode);
        await CreateContactAsync(owner.Token, 9, HttpStatusCode.Created);

        await CreateCampaignAsync(owner.Token, HttpStatusCode.Created);
        await CreateCampaignAsync(owner.Token, HttpStatusCode.Created);
        var campaign = await HttpAssert.ProblemAsync(
            await fixture.SendAsync(HttpMethod.Post, "/api/campaigns", owner.Token, new { name = "Third", subject = "S", body = "<p>B</p>" }),
            HttpStatusCode.Forbidden, "tier-limit-reached");
        Assert.Equal("campaigns", campaign.GetProperty("limit").GetString());
    }

    [Fact]
    public async Task Concurrent_creates_at_one_below_the_maximum_let_exactly_one_through()
    {
        var (workspace, owner) = await fixture.Seed.WorkspaceWithOwnerAsync("STARTER");
        await CreateContactAsync(owner.Token, 0, HttpStatusCode.Created);
        await CreateContactAsync(owner.Token, 1, HttpStatusCode.Created);
        await CreateCampaignAsync(owner.Token, HttpStatusCode.Created);

        var contacts = await Task.WhenAll(Enumerable.Range(10, 8).Select(i =>
            fixture.SendAsync(HttpMethod.Post, "/api/contacts", owner.Token, new { email = $"racer{i}@example.test" })));
        var campaigns = await Task.WhenAll(Enumerable.Range(0, 8).Select(i =>
            fixture.SendAsync(HttpMethod.Post, "/api/campaigns", owner.Token, new { name = $"Racer {i}", subject = "S", body = "<p>B</p>" })));

        Assert.Equal(1, contacts.Count(r => r.StatusCode == HttpStatusCode.Created));
        Assert.Equal(7, contacts.Count(r => r.StatusCode == HttpStatusCode.Forbidden));
        Assert.Equal(1, campaigns.Count(r => r.StatusCode == HttpStatusCode.Created));
        Assert.Equal(7, campaigns.Count(r => r.StatusCode == HttpStatusCode.Forbidden));
        Assert.Equal(3, await fixture.Db.ScalarAsync<long>($"SELECT count(*) FROM contacts WHERE workspace_id = '{workspace}' AND deleted_at IS NULL"));
        Assert.Equal(2, await fixture.Db.ScalarAsync<long>($"SELECT count(*) FROM campaigns WHERE workspace_id = '{workspace}' AND deleted_at IS NULL"));
    }

    [Fact]
    public async Task A_tier_changed_in_the_database_applies_within_one_membership_ttl()
    {
        var (workspace, owner) = await fixture.Seed.WorkspaceWithOwnerAsync();
        await CallsAsync(owner.Token, 5);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await fixture.SendAsync(HttpMethod.Get, "/api/dashboard", owner.Token)).StatusCode);

        // As billing would: straight into the database as the owner login, past the app (no invalidation).
        await using (var connection = new NpgsqlConnection(fixture.Db.ConnectionString))
        {
            await connection.OpenAsync();
            await using var upgrade = new NpgsqlCommand("UPDATE workspaces SET tier = 'PRO' WHERE id = $1", connection);
            upgrade.Parameters.Add(new NpgsqlParameter { Value = workspace });
            Assert.Equal(1, await upgrade.ExecuteNonQueryAsync());
        }

        // The cached membership expires in L1 on the app's clock (this test's, moved by one TTL) and in L2
        // by Redis's own expiry (real time): the new tier must show within one TTL of both.
        var changed = Stopwatch.StartNew();
        fixture.Clock.Advance(TimeSpan.FromSeconds(QuotaFixture.MembershipTtlSeconds) + TimeSpan.FromMilliseconds(1));
        HttpResponseMessage? allowed = null;
        await Eventually.TrueAsync(async () =>
        {
            var response = await fixture.SendAsync(HttpMethod.Get, "/api/dashboard", owner.Token);
            allowed = response.StatusCode == HttpStatusCode.OK ? response : null;
            return allowed is not null;
        }, TimeSpan.FromSeconds(QuotaFixture.MembershipTtlSeconds + 5));

        Assert.True(changed.Elapsed < TimeSpan.FromSeconds(QuotaFixture.MembershipTtlSeconds + 1), $"took {changed.Elapsed}");
        Assert.Equal("500", Header(allowed!, "X-RateLimit-Limit")); // PRO's multiplier
        Assert.EndsWith($"\"api-calls\";r={100_000 - 6};t={fixture.SecondsToMidnight()}", Header(allowed!, "RateLimit"), StringComparison.Ordinal);
    }

    private async Task CallsAsync(string token, int count)
    {
        for (var i = 0; i < count; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await fixture.SendAsync(HttpMethod.Get, "/api/dashboard", token)).StatusCode);
        }
    }

    private async Task<System.Text.Json.JsonElement> CreateContactAsync(string token, int i, HttpStatusCode expected) =>
        await HttpAssert.JsonAsync(await fixture.SendAsync(HttpMethod.Post, "/api/contacts", token, new { email = $"c{i}@example.test" }), expected);

    private async Task CreateCampaignAsync(string token, HttpStatusCode expected) =>
        await HttpAssert.JsonAsync(await fixture.SendAsync(HttpMethod.Post, "/api/campaigns", token, new { name = "Launch", subject = "S", body = "<p>B</p>" }), expected);

    private UsageFlushJob Job() => fixture.App.Services.GetServices<IHousekeepingJob>().OfType<UsageFlushJob>().Single();

    private async Task FlushAsync() => Assert.StartsWith("Flushed", await Job().RunAsync(CancellationToken.None), StringComparison.Ordinal);

    private Task<long> FlushedAsync(Guid workspace) =>
        fixture.Db.ScalarAsync<long>($"SELECT api_calls FROM usage_daily WHERE workspace_id = '{workspace}' AND day = '{UsageKeys.Date(UsageKeys.Day(fixture.Clock.GetUtcNow())):yyyy-MM-dd}'");
}
