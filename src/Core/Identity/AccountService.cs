using System.Text.Json.Nodes;
using AgentCrm.Core.Audit;
using AgentCrm.Core.Platform.Data;
using AgentCrm.Core.Platform.Problems;
using AgentCrm.Core.Platform.Security;
using AgentCrm.Core.Platform.Validation;
using Microsoft.AspNetCore.Identity;
using Npgsql;

namespace AgentCrm.Core.Identity;

public sealed record RegisterRequest(string? Email, string? Password, string? DisplayName);

public sealed record LoginRequest(string? Email, string? Password);

public sealed record UserView(Guid Id, string Email, string DisplayName, Guid? ActiveWorkspaceId, DateTimeOffset CreatedAt);

/// <summary>Where a request came from, for the audit log.</summary>
public sealed record RequestOrigin(string? IpAddress, string? RequestId);

/// <summary>
/// Accounts: register, login with lockout, logout. Passwords are hashed with ASP.NET Core Identity's
/// PBKDF2 hasher. A wrong password and an unknown email answer alike, and cost alike (a dummy verify).
/// Two answers do tell that an email has an account, as in any sign-up flow: registering it again (409)
/// and a lockout (429), which is worth telling the real owner; both are rate-limited per IP (issue 4).
/// </summary>
public sealed class AccountService(PostgresDataSources data, SessionTokens sessions, IAuditLog audit, AuthOptions options, TimeProvider time)
{
    private static readonly PasswordHasher<object> Hasher = new();
    private static readonly Lazy<string> DummyHash = new(() => Hasher.HashPassword(new object(), "not-a-real-password-0"));
    private static readonly object User = new();

    public async Task<TokenPair> RegisterAsync(RegisterRequest request, RequestOrigin origin, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        if (EmailAddress.Problem(request.Email?.Trim()) is { } emailProblem)
        {
            errors["email"] = [emailProblem];
        }

        if (PasswordPolicy.Problem(request.Password, request.Email ?? string.Empty) is { } passwordProblem)
        {
            errors["password"] = [passwordProblem];
        }

        if (string.IsNullOrWhiteSpace(request.DisplayName) || request.DisplayName.Trim().Length > 100)
        {
            errors["displayName"] = ["is required and must be at most 100 characters."];
        }

        if (errors.Count > 0)
        {
            throw ProblemException.Validation(errors);
        }

        var now = time.GetUtcNow();
        var userId = Guid.CreateVersion7(now);
        await using var connection = await data.Pooled.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var insert = new NpgsqlCommand("""
            INSERT INTO users (id, email, email_normalized, display_name, password_hash, created_at, updated_at)
            VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT (email_normalized) DO NOTHING
            """, connection, transaction).Args(userId, request.Email!.Trim(), EmailAddress.Normalize(request.Email), request.DisplayName!.Trim(),
            Hasher.HashPassword(User, request.Password!), now);
        if (await insert.ExecuteNonQueryAsync(cancellationToken) == 0)
        {
            throw new ProblemException(ProblemTypes.Conflict, "An account with this email already exists.");
        }

        var pair = await sessions.StartAsync(connection, transaction, userId, null, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        await audit.AppendAsync(new AuditEvent(null, AuditEvents.Login, userId, null, origin.IpAddress, origin.RequestId,
            new JsonObject { ["registered"] = true }), cancellationToken);
        return pair;
    }

    public async Task<TokenPair> LoginAsync(LoginRequest request, RequestOrigin origin, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(request.Email) || string.IsNullOrEmpty(request.Password) || request.Password.Length > PasswordPolicy.MaxLength)
        {
            throw Invalid();
        }

        // Read, then hash with no connection held and no row locked (PBKDF2 takes tens of milliseconds);
        // the outcome is then written by one conditional statement, so concurrent attempts still count.
        var account = await FindAccountAsync(EmailAddress.Normalize(request.Email), cancellationToken);
        var now = time.GetUtcNow();
        if (account is null)
        {
            Hasher.VerifyHashedPassword(User, DummyHash.Value, request.Password);
            await audit.AppendAsync(new AuditEvent(null, AuditEvents.FailedLogin, null, null, origin.IpAddress, origin.RequestId,
                new JsonObject { ["reason"] = "unknown_email" }), cancellationToken);
            throw Invalid();
        }

        var (userId, hash, lockedUntil, workspaceId) = account.Value;
        if (lockedUntil > now)
        {
            Hasher.VerifyHashedPassword(User, DummyHash.Value, request.Password); // costs what a check costs
            await audit.AppendAsync(new AuditEvent(workspaceId, AuditEvents.FailedLogin, userId, null, origin.IpAddress, origin.RequestId,
                new JsonObject { ["reason"] = "locked" }), cancellationToken);
            throw Locked(lockedUntil.Value, now);
        }

        var verdict = hash is null ? PasswordVerificationResult.Failed : Hasher.VerifyHashedPassword(User, hash, request.Password);
        await using var connection = await data.Pooled.OpenConnectionAsync(cancellationToken);
        if (verdict == PasswordVerificationResult.Failed)
        {
            await using var fail = new NpgsqlCommand("""
                UPDATE users SET failed_logins = CASE WHEN failed_logins + 1 >= $2 THEN 0 ELSE failed_logins + 1 END,
                                 locked_until = CASE WHEN failed_logins + 1 >= $2 THEN $3 ELSE locked_until END
                WHERE id = $1 RETURNING locked_until > $4
                """, connection).Args(userId, options.LockoutThreshold, now + options.LockoutDuration, now);
            var locks = await fail.ExecuteScalarAsync(cancellationToken) is true;
            await audit.AppendAsync(new AuditEvent(workspaceId, AuditEvents.FailedLogin, userId, null, origin.IpAddress, origin.RequestId,
                new JsonObject { ["reason"] = "wrong_password", ["locked"] = locks }), cancellationToken);
            throw locks ? Locked(now + options.LockoutDuration, now) : Invalid();
        }

        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var succeed = new NpgsqlCommand("""
            UPDATE users SET failed_logins = 0, locked_until = NULL, password_hash = COALESCE($2, password_hash)
            WHERE id = $1 AND (locked_until IS NULL OR locked_until <= $3) RETURNING active_workspace_id
            """, connection, transaction).Args(userId, verdict == PasswordVerificationResult.SuccessRehashNeeded ? Hasher.HashPassword(User, request.Password) : null, now);
        var active = await succeed.ExecuteScalarAsync(cancellationToken);
        if (active is null)
        {
            // Locked by a concurrent wrong attempt while this one was hashing: the lock wins.
            throw Locked(now + options.LockoutDuration, now);
        }

        workspaceId = active is Guid id ? id : null;
        var pair = await sessions.StartAsync(connection, transaction, userId, workspaceId, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        await audit.AppendAsync(new AuditEvent(workspaceId, AuditEvents.Login, userId, null, origin.IpAddress, origin.RequestId, null), cancellationToken);
        return pair;
    }

    private async Task<(Guid Id, string? Hash, DateTimeOffset? LockedUntil, Guid? WorkspaceId)?> FindAccountAsync(string email, CancellationToken cancellationToken)
    {
        await using var find = data.Pooled.CreateCommand("SELECT id, password_hash, locked_until, active_workspace_id FROM users WHERE email_normalized = $1").Args(email);
        await using var reader = await find.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        return (reader.GetGuid(0), reader.IsDBNull(1) ? null : reader.GetString(1),
            reader.IsDBNull(2) ? null : reader.GetFieldValue<DateTimeOffset>(2), reader.IsDBNull(3) ? null : reader.GetGuid(3));
    }

    public async Task LogoutAsync(Caller caller, RequestOrigin origin, CancellationToken cancellationToken)
    {
        if (caller.SessionId is { } session)
        {
            await sessions.RevokeFamilyAsync(session, "logout", cancellationToken);
        }

        await audit.AppendAsync(new AuditEvent(caller.WorkspaceId, AuditEvents.Logout, caller.UserId, null, origin.IpAddress, origin.RequestId, null), cancellationToken);
    }

    public async Task<UserView> MeAsync(Caller caller, CancellationToken cancellationToken)
    {
        await using var command = data.Pooled.CreateCommand("SELECT id, email, display_name, active_workspace_id, created_at FROM users WHERE id = $1").Args(caller.UserId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? new UserView(reader.GetGuid(0), reader.GetString(1), reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetGuid(3), reader.GetFieldValue<DateTimeOffset>(4))
            : throw new ProblemException(ProblemTypes.Unauthorized, "The account no longer exists.");
    }

    private static ProblemException Invalid() => new(ProblemTypes.Unauthorized, "The email or password is wrong.");

    private static ProblemException Locked(DateTimeOffset until, DateTimeOffset now) =>
        new(ProblemTypes.AccountLocked, $"Too many failed logins: the account is locked until {until:O}.")
        {
            RetryAfter = until - now,
        };
}
