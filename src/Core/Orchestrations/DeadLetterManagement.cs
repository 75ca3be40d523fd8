using System.Buffers.Binary;
using System.Buffers.Text;
using System.Text.Json;
using AgentCrm.Core.Durable.Api;
using AgentCrm.Core.Durable.Client;
using AgentCrm.Core.Durable.Store;
using AgentCrm.Core.Platform.Data;
using AgentCrm.Core.Platform.Problems;
using AgentCrm.Core.Platform.Security;

namespace AgentCrm.Core.Orchestrations;

/// <summary>A dead letter as the API shows it: detail and payload as JSON.</summary>
public sealed record DeadLetterView(
    string Id, string Source, string Name, string? InstanceId, string? Queue, long? MessageId, int? DequeueCount, JsonElement? Detail, JsonElement? Payload, DateTime CreatedAt);

/// <summary>What a replay did: a queue message is enqueued again; a task's or instance's failed instance is rewound.</summary>
public sealed record DeadLetterReplay(long? MessageId, string? InstanceId);

/// <summary>
/// /api/dead-letters for a workspace's admins: list, inspect, replay, discard. Replaying a queue message puts it
/// back on its queue; replaying a poison task or instance rewinds the instance it failed (and the letter goes).
/// </summary>
public sealed class DeadLetterManagement(DeadLetterStore store, DurableClient client)
{
    public async Task<Page<DeadLetterView>> ListAsync(WorkspaceAccess access, string? source, string? queue, string? limit, string? cursor, CancellationToken cancellationToken)
    {
        var errors = new ValidationErrors();
        if (source is not null and not ("queue" or "task" or "instance"))
        {
            errors.Add("source", "must be queue, task or instance.");
        }

        var page = PageRequest.Parse(limit, null, errors);
        long? after = null;
        if (cursor is not null)
        {
            after = DecodeCursor(cursor);
            if (after is null)
            {
                errors.Add("cursor", "is not a cursor this API gave out; use nextCursor from the previous page.");
            }
        }

        errors.ThrowIfAny();
        var rows = await store.ListAsync(Scope(access), source, queue, page.Limit + 1, after, cancellationToken);
        var items = rows.Take(page.Limit).Select(View).ToList();
        return new Page<DeadLetterView>(items, rows.Count > page.Limit ? EncodeCursor(rows[page.Limit - 1].Id) : null);
    }

    public async Task<DeadLetterView> GetAsync(WorkspaceAccess access, string id, CancellationToken cancellationToken) =>
        View(await store.GetAsync(ParseId(id), Scope(access), cancellationToken) ?? throw NotFound(id));

    public async Task<DeadLetterReplay> ReplayAsync(WorkspaceAccess access, string id, CancellationToken cancellationToken)
    {
        var letterId = ParseId(id);
        var result = await store.ReplayAsync(letterId, Scope(access), cancellationToken);
        switch (result.Outcome)
        {
            case ReplayOutcome.Replayed:
                return new DeadLetterReplay(result.MessageId, null);
            case ReplayOutcome.NotFound:
                throw NotFound(id);
        }

        var letter = await store.GetAsync(letterId, Scope(access), cancellationToken) ?? throw NotFound(id);
        OrchestrationStatus? before;
        try
        {
            before = letter.InstanceId is null ? null : await client.RewindAsync(letter.InstanceId, $"Replay of dead letter {id}.", Scope(access), cancellationToken);
        }
        catch (InvalidOperationException ex)
        {
            throw new ProblemException(ProblemTypes.Conflict, ex.Message);
        }

        if (before != OrchestrationStatus.Failed)
        {
            throw new ProblemException(ProblemTypes.Conflict,
                $"Dead letter {id} is a poison {letter.Source} of instance '{letter.InstanceId}', which is {before?.ToString() ?? "gone"}: only a Failed instance is rewound. Discard the letter instead.");
        }

        await store.DiscardAsync(letterId, Scope(access), cancellationToken);
        return new DeadLetterReplay(null, letter.InstanceId);
    }

    public async Task DiscardAsync(WorkspaceAccess access, string id, CancellationToken cancellationToken)
    {
        if (!await store.DiscardAsync(ParseId(id), Scope(access), cancellationToken))
        {
            throw NotFound(id);
        }
    }

    private static DeadLetterView View(DeadLetter d) => new(
        d.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), d.Source, d.Name, d.InstanceId, d.Queue, d.MessageId, d.DequeueCount,
        OrchestrationJson.Element(d.Detail), OrchestrationJson.Element(d.Payload), d.CreatedAt);

    private static string Scope(WorkspaceAccess access) => access.WorkspaceId.ToString();

    private static long ParseId(string id) =>
        long.TryParse(id, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var parsed) && parsed > 0 ? parsed : throw NotFound(id);

    private static string EncodeCursor(long id)
    {
        Span<byte> bytes = stackalloc byte[8];
        BinaryPrimitives.WriteInt64BigEndian(bytes, id);
        return Base64Url.EncodeToString(bytes);
    }

    private static long? DecodeCursor(string cursor)
    {
        Span<byte> bytes = stackalloc byte[9];
        return cursor.Length == 11 && Base64Url.TryDecodeFromChars(cursor, bytes, out var written) && written == 8 ? BinaryPrimitives.ReadInt64BigEndian(bytes) : null;
    }

    private static ProblemException NotFound(string id) => new(ProblemTypes.NotFound, $"No dead letter '{id}' in this workspace.");
}
