using System.Text.Json;
using AgentCrm.Core.Platform.Data;
using AgentCrm.Core.Platform.Hosting;
using Npgsql;
using NpgsqlTypes;

namespace AgentCrm.Core.Platform.Http;

/// <summary>What a claim found: ours to run, a stored response, or someone else's key state.</summary>
public enum IdempotencyClaimOutcome
{
    Claimed,
    Replay,
    DifferentRequest,
    InFlight,
}

/// <summary>A stored response to replay: status, the headers that describe it, and the body.</summary>
public sealed record StoredResponse(int Status, IReadOnlyDictionary<string, string> Headers, byte[] Body);

public sealed record IdempotencyClaim(IdempotencyClaimOutcome Outcome, Guid LeaseToken, StoredResponse? Response);

/// <summary>
/// Idempotency keys in PostgreSQL (0006_idempotency.sql), on the database clock so instance clocks do not
/// matter. A claim is one atomic upsert: it takes a new key, an expired one, or one whose holder's lease
/// lapsed with the same request; otherwise it reads what is there.
/// </summary>
public sealed class IdempotencyStore(PostgresDataSources data, IdempotencyOptions options)
{
    private const string ClaimSql = """
        INSERT INTO idempotency_keys AS k (principal, key, fingerprint, lease_token, locked_until, created_at, expires_at)
        VALUES ($1, $2, $3, $4, now() + $5, now(), now() + $6)
        ON CONFLICT (principal, key) DO UPDATE
           SET fingerprint = excluded.fingerprint, lease_token = excluded.lease_token, locked_until = excluded.locked_until,
               created_at = excluded.created_at, expires_at = excluded.expires_at, status = NULL, headers = NULL, body = NULL
         WHERE k.expires_at < now()
            OR (k.status IS NULL AND k.locked_until < now() AND k.fingerprint = excluded.fingerprint)
        RETURNING 1
        """;

    private const string ReadSql = "SELECT fingerprint, status, headers::text, body FROM idempotency_keys WHERE principal = $1 AND key = $2";

    public async Task<IdempotencyClaim> ClaimAsync(string principal, string key, byte[] fingerprint, CancellationToken cancellationToken)
    {
        var token = Guid.NewGuid();
        // A key released between our upsert and our read is gone: claim again (bounded; each turn is a real change).
        for (var attempt = 0; ; attempt++)
        {
            await using (var claim = data.Pooled.CreateCommand(ClaimSql).Args(principal, key, fingerprint, token, options.Lease, options.Retention))
            {
                if (await claim.ExecuteScalarAsync(cancellationToken) is not null)
                {
                    return new IdempotencyClaim(IdempotencyClaimOutcome.Claimed, token, null);
                }
            }

            await using var read = data.Pooled.CreateCommand(ReadSql).Args(principal, key);
            await using var reader = await read.ExecuteReaderAsync(cancellationToken);
            if (!await reader.ReadAsync(cancellationToken))
            {
                if (attempt < 3)
                {
                    continue;
                }

                return new IdempotencyClaim(IdempotencyClaimOutcome.InFlight, token, null);
            }

            if (!reader.GetFieldValue<byte[]>(0).AsSpan().SequenceEqual(fingerprint))
            {
                return new IdempotencyClaim(IdempotencyClaimOutcome.DifferentRequest, token, null);
            }

            if (reader.IsDBNull(1))
            {
                return new IdempotencyClaim(IdempotencyClaimOutcome.InFlight, token, null);
            }

            var headers = JsonSerializer.Deserialize<Dictionary<string, string>>(reader.GetString(2)) ?? [];
            return new IdempotencyClaim(IdempotencyClaimOutcome.Replay, token, new StoredResponse(reader.GetInt32(1), headers, reader.GetFieldValue<byte[]>(3)));
        }
    }

    /// <summary>Extends the lease while the request runs; false once the key is no longer ours.</summary>
    public async Task<bool> RenewAsync(string principal, string key, Guid token, CancellationToken cancellationToken)
    {
        await using var command = data.Pooled.CreateCommand(
            "UPDATE idempotency_keys SET locked_until = now() + $4 WHERE principal = $1 AND key = $2 AND lease_token = $3")
            .Args(principal, key, token, options.Lease);
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    /// <summary>Stores the response, if the key is still ours (a holder that outlived its lease stores nothing).</summary>
    public async Task<bool> CompleteAsync(string principal, string key, Guid token, StoredResponse response, CancellationToken cancellationToken)
    {
        await using var command = data.Pooled.CreateCommand("""
            UPDATE idempotency_keys SET status = $4, headers = $5, body = $6, lease_token = NULL, locked_until = NULL
            WHERE principal = $1 AND key = $2 AND lease_token = $3
            """).Args(principal, key, token, response.Status);
        command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Jsonb, Value = JsonSerializer.Serialize(response.Headers) });
        command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Bytea, Value = response.Body });
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    /// <summary>Forgets an in-flight key (the request failed with a 5xx or an exception) so the client can retry.</summary>
    public async Task ReleaseAsync(string principal, string key, Guid token, CancellationToken cancellationToken)
    {
        await using var command = data.Pooled.CreateCommand("DELETE FROM idempotency_keys WHERE principal = $1 AND key = $2 AND lease_token = $3")
            .Args(principal, key, token);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
