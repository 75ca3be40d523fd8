using AgentCrm.Core.Platform.Data;
using AgentCrm.Core.Platform.Problems;
using AgentCrm.Core.Platform.Security;
using AgentCrm.Core.Usage;
using Npgsql;

namespace AgentCrm.Core.Contacts;

/// <summary>
/// Contacts in PostgreSQL, always through a <see cref="TenantSession"/> and with workspace_id in every
/// condition as well (row-level security is the second lock, not the only one). Deleted rows are invisible.
/// </summary>
public sealed class ContactStore(PostgresDataSources data)
{
    private const string UniqueEmail = "contacts_email_unique";

    private static readonly string ListSql = $"""
        SELECT {Contact.Columns} FROM contacts c
        WHERE c.workspace_id = $1 AND c.deleted_at IS NULL AND ($2::uuid IS NULL OR c.id < $2)
          AND {ContactFilter.Condition("$3::text", "$4::text", "$5::text")}
        ORDER BY c.id DESC LIMIT $6
        """;

    private static readonly string CountSql = $"""
        SELECT count(*) FROM contacts c
        WHERE c.workspace_id = $1 AND c.deleted_at IS NULL AND {ContactFilter.Condition("$2::text", "$3::text", "$4::text")}
        """;

    /// <summary>Inserts the contact unless the workspace already has <paramref name="max"/> live ones (null: no maximum).</summary>
    private const string InsertSql = """
        INSERT INTO contacts (workspace_id, id, email, name, phone, company, status, tags, created_at, updated_at)
        SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $9
        """;

    private static readonly string InsertBelowMaxSql = $"{InsertSql} WHERE {TierLimitGuard.Below("contacts", "$1", "$10")}";

    public async Task<Contact> InsertAsync(WorkspaceAccess access, Contact contact, int? max, CancellationToken cancellationToken)
    {
        await using var session = await OpenAsync(access, write: true, cancellationToken);
        await using var batch = session.CreateBatch();
        if (max is not null)
        {
            TierLimitGuard.AddLock(batch, TierLimitGuard.Contacts, access.WorkspaceId);
        }

        var insert = batch.Add(max is null ? InsertSql : InsertBelowMaxSql).Args(access.WorkspaceId, contact.Id, contact.Email, contact.Name,
            contact.Phone, contact.Company, contact.Status, contact.Tags.ToArray(), contact.CreatedAt);
        if (max is not null)
        {
            insert.Args(max.Value);
        }
        await WithUniqueEmailAsync(() => session.ExecuteAsync(batch, cancellationToken));
        if (insert.RecordsAffected == 0)
        {
            throw UsageProblems.TierLimitReached(TierLimitGuard.Contacts, max!.Value, access.Tier);
        }

        await session.CommitAsync(cancellationToken);
        return contact;
    }

    public async Task<Contact?> FindAsync(WorkspaceAccess access, Guid id, CancellationToken cancellationToken)
    {
        await using var session = await OpenAsync(access, write: false, cancellationToken);
        await using var batch = session.CreateBatch($"SELECT {Contact.Columns} FROM contacts WHERE workspace_id = $1 AND id = $2 AND deleted_at IS NULL",
            access.WorkspaceId, id);
        await using var reader = await session.ReadAsync(batch, cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Contact.Read(reader) : null;
    }

    /// <summary>Reads the row locked, lets <paramref name="change"/> decide the new state (or throw), and writes it with the next version.</summary>
    public async Task<Contact?> UpdateAsync(WorkspaceAccess access, Guid id, Func<Contact, Contact> change, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var session = await OpenAsync(access, write: true, cancellationToken);
        Contact current;
        await using (var read = session.CreateBatch($"SELECT {Contact.Columns} FROM contacts WHERE workspace_id = $1 AND id = $2 AND deleted_at IS NULL FOR UPDATE",
            access.WorkspaceId, id))
        await using (var reader = await session.ReadAsync(read, cancellationToken))
        {
            if (!await reader.ReadAsync(cancellationToken))
            {
                return null;
            }

            current = Contact.Read(reader);
        }

        var next = change(current) with { UpdatedAt = now, Version = current.Version + 1 };
        await using var write = session.CreateBatch("""
            UPDATE contacts SET email = $3, name = $4, phone = $5, company = $6, status = $7, tags = $8, updated_at = $9, version = $10
            WHERE workspace_id = $1 AND id = $2
            """, access.WorkspaceId, id, next.Email, next.Name, next.Phone, next.Company, next.Status, next.Tags.ToArray(), now, next.Version);
        await WithUniqueEmailAsync(() => session.ExecuteAsync(write, cancellationToken));
        await session.CommitAsync(cancellationToken);
        return next;
    }

    /// <summary>Soft delete: the row stays for references and audit, the address becomes free.</summary>
    public async Task<bool> DeleteAsync(WorkspaceAccess access, Guid id, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var session = await OpenAsync(access, write: true, cancellationToken);
        var deleted = await session.ExecuteAsync("""
            UPDATE contacts SET deleted_at = $3, updated_at = $3, version = version + 1
            WHERE workspace_id = $1 AND id = $2 AND deleted_at IS NULL
            """, cancellationToken, access.WorkspaceId, id, now);
        await session.CommitAsync(cancellationToken);
        return deleted == 1;
    }

    public async Task<Page<Contact>> ListAsync(WorkspaceAccess access, ContactFilter filter, PageRequest page, CancellationToken cancellationToken)
    {
        await using var session = await OpenAsync(access, write: false, cancellationToken);
        await using var batch = session.CreateBatch(ListSql, access.WorkspaceId, page.After, filter.Q, filter.Tag, filter.Status, page.Limit + 1);
        await using var reader = await session.ReadAsync(batch, cancellationToken);
        var rows = new List<Contact>(page.Limit + 1);
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(Contact.Read(reader));
        }

        return Page.From(rows, page.Limit, c => c.Id);
    }

    public async Task<long> CountAsync(WorkspaceAccess access, ContactFilter filter, CancellationToken cancellationToken)
    {
        await using var session = await OpenAsync(access, write: false, cancellationToken);
        await using var batch = session.CreateBatch(CountSql, access.WorkspaceId, filter.Q, filter.Tag, filter.Status);
        await using var reader = await session.ReadAsync(batch, cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return reader.GetInt64(0);
    }

    private Task<TenantSession> OpenAsync(WorkspaceAccess access, bool write, CancellationToken cancellationToken) =>
        TenantSession.OpenAsync(data.Pooled, access, write, cancellationToken);

    private static async Task WithUniqueEmailAsync(Func<Task<int>> write)
    {
        try
        {
            await write();
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation && e.ConstraintName == UniqueEmail)
        {
            throw new ProblemException(ProblemTypes.Conflict, "Another contact in this workspace has this email address.");
        }
    }
}
