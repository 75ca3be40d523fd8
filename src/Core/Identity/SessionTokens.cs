using AgentCrm.Core.Platform.Data;
using AgentCrm.Core.Platform.Problems;
using AgentCrm.Core.Platform.Security;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace AgentCrm.Core.Identity;

/// <summary>
/// Login sessions: a family of refresh tokens descending from one login. Each refresh rotates the token;
/// a rotated token presented again means it was copied, so the whole family is revoked (OAuth 2.0
/// Security BCP §4.14). The family id travels in access tokens as <c>sid</c>, so logout can end it.
/// </summary>
public sealed partial class SessionTokens(PostgresDataSources data, AccessTokenCodec codec, AuthOptions options, TimeProvider time, ILogger<SessionTokens> logger)
{
    private const string InsertSql = """
        INSERT INTO refresh_tokens (token_hash, family_id, user_id, issued_at, expires_at) VALUES ($1, $2, $3, $4, $5)
        """;

    /// <summary>Starts a family inside the caller's transaction (register, login).</summary>
    public async Task<TokenPair> StartAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid userId, Guid? workspaceId, CancellationToken cancellationToken)
    {
        var familyId = Guid.CreateVersion7(time.GetUtcNow());
        return await AddTokenAsync(connection, transaction, familyId, userId, workspaceId, cancellationToken);
    }

    public async Task<TokenPair> RefreshAsync(string refreshToken, CancellationToken cancellationToken)
    {
        await using var connection = await data.Pooled.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var find = new NpgsqlCommand("""
            SELECT t.family_id, t.user_id, t.expires_at, t.rotated_at, t.revoked_at, u.active_workspace_id
            FROM refresh_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1 FOR UPDATE OF t
            """, connection, transaction).Args(SecretTokens.Hash(refreshToken));
        Guid familyId, userId;
        Guid? workspaceId;
        await using (var reader = await find.ExecuteReaderAsync(cancellationToken))
        {
            if (!await reader.ReadAsync(cancellationToken))
            {
                throw Refused("The refresh token is not valid.");
            }

            familyId = reader.GetGuid(0);
            userId = reader.GetGuid(1);
            var expired = reader.GetFieldValue<DateTimeOffset>(2) <= time.GetUtcNow();
            var rotated = !reader.IsDBNull(3);
            var revoked = !reader.IsDBNull(4);
            workspaceId = reader.IsDBNull(5) ? null : reader.GetGuid(5);
            if (revoked)
            {
                throw Refused("The refresh token has been revoked; sign in again.");
            }

            if (expired)
            {
                throw Refused("The refresh token has expired; sign in again.");
            }

            if (rotated)
            {
                await reader.DisposeAsync();
                await RevokeFamilyAsync(connection, transaction, familyId, "reuse", cancellationToken);
                await transaction.CommitAsync(cancellationToken);
                LogReuse(logger, familyId, userId);
                throw Refused("This refresh token was already used, so the session has been ended for safety; sign in again.");
            }
        }

        await using var rotate = new NpgsqlCommand("UPDATE refresh_tokens SET rotated_at = $2 WHERE token_hash = $1", connection, transaction)
            .Args(SecretTokens.Hash(refreshToken), time.GetUtcNow());
        await rotate.ExecuteNonQueryAsync(cancellationToken);
        var pair = await AddTokenAsync(connection, transaction, familyId, userId, workspaceId, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return pair;
    }

    /// <summary>Ends a session: every refresh token of the family stops working.</summary>
    public async Task RevokeFamilyAsync(Guid familyId, string reason, CancellationToken cancellationToken)
    {
        await using var connection = await data.Pooled.OpenConnectionAsync(cancellationToken);
        await RevokeFamilyAsync(connection, null, familyId, reason, cancellationToken);
    }

    /// <summary>A new access token in the same session, e.g. for another active workspace.</summary>
    public (string Token, DateTimeOffset ExpiresAt) AccessToken(Guid userId, Guid? workspaceId, Guid familyId)
    {
        var token = codec.Issue(userId, workspaceId, familyId, out var expiresAt);
        return (token, expiresAt);
    }

    private async Task<TokenPair> AddTokenAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid familyId, Guid userId, Guid? workspaceId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var refresh = SecretTokens.New();
        var refreshExpires = now + options.RefreshTokenLifetime;
        await using var insert = new NpgsqlCommand(InsertSql, connection, transaction).Args(SecretTokens.Hash(refresh), familyId, userId, now, refreshExpires);
        await insert.ExecuteNonQueryAsync(cancellationToken);
        var access = codec.Issue(userId, workspaceId, familyId, out var accessExpires);
        return new TokenPair(access, "Bearer", (int)(accessExpires - now).TotalSeconds, refresh, refreshExpires, userId, workspaceId);
    }

    private async Task RevokeFamilyAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, Guid familyId, string reason, CancellationToken cancellationToken)
    {
        await using var revoke = new NpgsqlCommand(
            "UPDATE refresh_tokens SET revoked_at = $2, revoked_reason = $3 WHERE family_id = $1 AND revoked_at IS NULL", connection, transaction)
            .Args(familyId, time.GetUtcNow(), reason);
        await revoke.ExecuteNonQueryAsync(cancellationToken);
    }

    private static ProblemException Refused(string detail) => new(ProblemTypes.Unauthorized, detail);

    [LoggerMessage(EventId = 3101, Level = LogLevel.Warning, Message = "Refresh token reuse in session {FamilyId} of user {UserId}: the session is revoked")]
    private static partial void LogReuse(ILogger logger, Guid familyId, Guid userId);
}
