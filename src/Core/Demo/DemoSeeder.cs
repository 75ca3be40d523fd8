using AgentCrm.Core.Contacts;
using AgentCrm.Core.Identity;
using AgentCrm.Core.Platform.Data;
using AgentCrm.Core.Platform.Problems;
using AgentCrm.Core.Platform.Security;
using AgentCrm.Core.Workspaces;

namespace AgentCrm.Core.Demo;

public sealed record DemoData(string Email, string Password, Guid WorkspaceId, TokenPair Tokens, IReadOnlyList<Guid> ContactIds);

/// <summary>
/// The local demo: a user, their workspace (on PRO) and a few hundred contacts, made through the same services
/// the API uses (so the demo also proves they work). Running it again signs the same user in and tops the
/// contacts up; it never duplicates.
/// </summary>
public sealed class DemoSeeder(AccountService accounts, WorkspaceService workspaces, ContactService contacts, AccessCaches accessCaches, PostgresDataSources data)
{
    public const string Email = "demo@agentcrm.dev";
    public const string Password = "correct-horse-2026";
    private static readonly string[] Companies = ["Northwind", "Contoso", "Fabrikam", "Tailspin", "Litware", "Adventure Works", "Wingtip"];
    private static readonly string[] Tags = ["lead", "customer", "partner", "vip", "newsletter", "trial"];
    private static readonly string[] Statuses = [ContactStatuses.Active, ContactStatuses.Active, ContactStatuses.Active, ContactStatuses.Unsubscribed, ContactStatuses.Bounced];

    public async Task<DemoData> SeedAsync(int contactCount, CancellationToken cancellationToken)
    {
        var origin = new RequestOrigin("127.0.0.1", "demo-seed");
        TokenPair tokens;
        try
        {
            tokens = await accounts.RegisterAsync(new RegisterRequest(Email, Password, "Demo User"), origin, cancellationToken);
        }
        catch (ProblemException e) when (e.Type == ProblemTypes.Conflict)
        {
            tokens = await accounts.LoginAsync(new LoginRequest(Email, Password), origin, cancellationToken);
        }

        var caller = Caller.User(tokens.UserId, tokens.WorkspaceId, null, "agentcrm");
        var mine = await workspaces.ListMineAsync(caller, cancellationToken);
        var workspace = mine.Count > 0 ? mine[0] : await workspaces.CreateAsync(caller, "Demo workspace", cancellationToken);
        if (tokens.WorkspaceId != workspace.Id)
        {
            tokens = await accounts.LoginAsync(new LoginRequest(Email, Password), origin, cancellationToken); // now carries the workspace
        }

        await UpgradeAsync(workspace.Id, caller.UserId, cancellationToken);
        var access = new WorkspaceAccess(workspace.Id, WorkspaceRole.Owner, Tiers.Pro, caller with { WorkspaceId = workspace.Id });
        var ids = await ContactIdsAsync(access, cancellationToken);
        for (var i = ids.Count; i < contactCount; i++)
        {
            var first = FirstNames[i % FirstNames.Length];
            var last = LastNames[i / FirstNames.Length % LastNames.Length];
            var contact = await contacts.CreateAsync(access, new NewContact(
                $"{first}.{last}.{i}@example.com".ToLowerInvariant(), $"{first} {last}", $"+1555{i:D7}", Companies[i % Companies.Length],
                Statuses[i % Statuses.Length], [Tags[i % Tags.Length], Tags[(i / 3 + 1) % Tags.Length]]), cancellationToken);
            ids.Add(contact.Id);
        }

        return new DemoData(Email, Password, workspace.Id, tokens, ids);
    }

    /// <summary>The demo workspace is on PRO: its few hundred contacts pass FREE's maximum, and benchmarks read it at PRO's rates.</summary>
    private async Task UpgradeAsync(Guid workspaceId, Guid? userId, CancellationToken cancellationToken)
    {
        await using var session = await TenantSession.OpenAsync(data.Pooled, workspaceId, userId, write: true, cancellationToken);
        var changed = await session.ExecuteAsync("UPDATE workspaces SET tier = $2, updated_at = now() WHERE id = $1 AND tier <> $2", cancellationToken, workspaceId, Tiers.Pro);
        await session.CommitAsync(cancellationToken);
        if (changed > 0)
        {
            await accessCaches.TierChangedAsync(workspaceId, cancellationToken); // cached memberships carry the tier
        }
    }

    private async Task<List<Guid>> ContactIdsAsync(WorkspaceAccess access, CancellationToken cancellationToken)
    {
        await using var session = await TenantSession.OpenAsync(data.Pooled, access.WorkspaceId, access.Caller.UserId, write: false, cancellationToken);
        await using var batch = session.CreateBatch("SELECT id FROM contacts WHERE workspace_id = $1 AND deleted_at IS NULL ORDER BY id", access.WorkspaceId);
        await using var reader = await session.ReadAsync(batch, cancellationToken);
        var ids = new List<Guid>();
        while (await reader.ReadAsync(cancellationToken))
        {
            ids.Add(reader.GetGuid(0));
        }

        return ids;
    }

    private static readonly string[] FirstNames = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Margaret", "Dennis", "Radia", "Tim", "Sophie", "Linus", "Hedy"];
    private static readonly string[] LastNames = ["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson", "Hamilton", "Ritchie", "Perlman", "Berners-Lee", "Wilson", "Torvalds", "Lamarr"];
}
