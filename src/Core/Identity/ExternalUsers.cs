using AgentCrm.Core.Platform.Data;
using AgentCrm.Core.Platform.Security;
using Npgsql;

namespace AgentCrm.Core.Identity;

/// <summary>
/// Maps a subject of an external OIDC issuer to a user of ours, creating the user on first sight. An
/// external email is never used to take over a local account with the same email: that would let
/// whoever controls the issuer sign in as anyone. Such a user gets an address of the issuer's own.
/// </summary>
public sealed class ExternalUsers(PostgresDataSources data, TimeProvider time)
{
    public async Task<(Guid UserId, Guid? ActiveWorkspaceId)> ResolveAsync(ExternalIdentity identity, CancellationToken cancellationToken)
    {
        await using var connection = await data.Pooled.OpenConnectionAsync(cancellationToken);
        if (await FindAsync(connection, identity, cancellationToken) is { } known)
        {
            return known;
        }

        var now = time.GetUtcNow();
        var userId = Guid.CreateVersion7(now);
        var fallback = $"{identity.Subject}@{new Uri(identity.Issuer).Host}".ToLowerInvariant();
        var email = identity.Email?.Trim().ToLowerInvariant() is { Length: > 0 and <= 254 } claimed ? claimed : fallback;
        await using (var transaction = await connection.BeginTransactionAsync(cancellationToken))
        {
            await using var insert = new NpgsqlBatch(connection, transaction);
            insert.Add("""
                INSERT INTO users (id, email, email_normalized, display_name, created_at, updated_at)
                VALUES ($1, $2, CASE WHEN EXISTS (SELECT FROM users WHERE email_normalized = $2) THEN $3 ELSE $2 END, $4, $5, $5)
                ON CONFLICT (email_normalized) DO NOTHING
                """).Args(userId, email, fallback, identity.Name ?? email, now);
            insert.Add("INSERT INTO user_identities (issuer, subject, user_id, created_at) SELECT $1, $2, $3, $4 WHERE EXISTS (SELECT FROM users WHERE id = $3) ON CONFLICT DO NOTHING")
                .Args(identity.Issuer, identity.Subject, userId, now);
            await insert.ExecuteNonQueryAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }

        // Whoever won a race for this subject, this reads their row.
        return await FindAsync(connection, identity, cancellationToken)
            ?? throw new Platform.Problems.ProblemException(Platform.Problems.ProblemTypes.Conflict,
                "No account could be made for this identity: its email and the issuer's fallback address are both taken by other accounts.");
    }

    private static async Task<(Guid, Guid?)?> FindAsync(NpgsqlConnection connection, ExternalIdentity identity, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            SELECT u.id, u.active_workspace_id FROM user_identities i JOIN users u ON u.id = i.user_id
            WHERE i.issuer = $1 AND i.subject = $2
            """, connection).Args(identity.Issuer, identity.Subject);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? (reader.GetGuid(0), reader.IsDBNull(1) ? null : reader.GetGuid(1))
            : null;
    }
}
