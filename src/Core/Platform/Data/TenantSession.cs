using AgentCrm.Core.Platform.Security;
using Npgsql;

namespace AgentCrm.Core.Platform.Data;

/// <summary>
/// Tenant work on the pooled data source: one connection and one transaction in which
/// <c>app.workspace_id</c> and <c>app.user_id</c> are set locally (DESIGN.md §4), so row-level security
/// shows this workspace's rows and nothing else. The settings travel as the first statement of the first
/// batch, in the same round trip as the work: a read is one round trip, and a write session adds only its
/// commit. A read session has no explicit transaction: each batch is its own implicit one and carries
/// the settings again.
/// </summary>
public sealed class TenantSession : IAsyncDisposable
{
    private const string ScopeSql = "SELECT set_config('app.workspace_id', $1, true), set_config('app.user_id', $2, true)";

    private readonly NpgsqlConnection _connection;
    private readonly NpgsqlTransaction? _transaction;
    private readonly string _workspaceId;
    private readonly string _userId;
    private bool _scoped;

    private TenantSession(NpgsqlConnection connection, NpgsqlTransaction? transaction, Guid? workspaceId, Guid? userId)
    {
        _connection = connection;
        _transaction = transaction;
        _workspaceId = workspaceId?.ToString() ?? string.Empty;
        _userId = userId?.ToString() ?? string.Empty;
    }

    public NpgsqlConnection Connection => _connection;

    /// <summary>Opens a session. <paramref name="write"/> begins a transaction that <see cref="CommitAsync"/> ends.</summary>
    public static async Task<TenantSession> OpenAsync(NpgsqlDataSource source, Guid? workspaceId, Guid? userId, bool write, CancellationToken cancellationToken)
    {
        var connection = await source.OpenConnectionAsync(cancellationToken);
        try
        {
            // Npgsql sends BEGIN with the next command, not on its own.
            var transaction = write ? await connection.BeginTransactionAsync(cancellationToken) : null;
            return new TenantSession(connection, transaction, workspaceId, userId);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>Opens a session for <paramref name="access"/>, whose membership the access middleware has checked.</summary>
    public static Task<TenantSession> OpenAsync(NpgsqlDataSource source, WorkspaceAccess access, bool write, CancellationToken cancellationToken) =>
        OpenAsync(source, access.WorkspaceId, access.Caller.UserId, write, cancellationToken);

    /// <summary>A batch whose first statement scopes the transaction when it needs scoping; add the work after it.</summary>
    public NpgsqlBatch CreateBatch()
    {
        var batch = new NpgsqlBatch(_connection, _transaction);
        if (!_scoped || _transaction is null)
        {
            batch.Add(ScopeSql).Args(_workspaceId, _userId);
        }

        return batch;
    }

    public NpgsqlBatch CreateBatch(string sql, params ReadOnlySpan<object?> args)
    {
        var batch = CreateBatch();
        batch.Add(sql).Args(args);
        return batch;
    }

    /// <summary>Runs the batch; the reader is positioned on the first result of the work (past the scoping).</summary>
    public async Task<NpgsqlDataReader> ReadAsync(NpgsqlBatch batch, CancellationToken cancellationToken)
    {
        var scoping = IsScoping(batch);
        var reader = await batch.ExecuteReaderAsync(cancellationToken);
        _scoped = true;
        try
        {
            if (scoping)
            {
                await reader.NextResultAsync(cancellationToken);
            }
        }
        catch
        {
            await reader.DisposeAsync(); // before the session's rollback, so the first error is the one reported
            throw;
        }

        return reader;
    }

    public async Task<int> ExecuteAsync(NpgsqlBatch batch, CancellationToken cancellationToken)
    {
        var affected = await batch.ExecuteNonQueryAsync(cancellationToken);
        _scoped = true;
        return affected;
    }

    public async Task<int> ExecuteAsync(string sql, CancellationToken cancellationToken, params object?[] args)
    {
        await using var batch = CreateBatch(sql, args);
        return await ExecuteAsync(batch, cancellationToken);
    }

    public async Task CommitAsync(CancellationToken cancellationToken)
    {
        if (_transaction is null)
        {
            throw new InvalidOperationException("A read session has nothing to commit.");
        }

        await _transaction.CommitAsync(cancellationToken);
    }

    private static bool IsScoping(NpgsqlBatch batch) =>
        batch.BatchCommands.Count > 0 && ReferenceEquals(batch.BatchCommands[0].CommandText, ScopeSql);

    public async ValueTask DisposeAsync()
    {
        if (_transaction is not null)
        {
            await _transaction.DisposeAsync(); // rolls back unless committed
        }

        await _connection.DisposeAsync();
    }
}
