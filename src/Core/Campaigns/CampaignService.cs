using AgentCrm.Core.Platform.Data;
using AgentCrm.Core.Platform.Http;
using AgentCrm.Core.Platform.Problems;
using AgentCrm.Core.Platform.Security;
using AgentCrm.Core.Usage;

namespace AgentCrm.Core.Campaigns;

/// <summary>Campaign use cases and the status machine (<see cref="CampaignStatuses"/>). Unknown ids are 404 problems.</summary>
public sealed class CampaignService(CampaignStore store, TierPlans plans, TimeProvider time)
{
    public async Task<Campaign> CreateAsync(WorkspaceAccess access, NewCampaign input, CancellationToken cancellationToken)
    {
        var errors = new ValidationErrors();
        CampaignRules.Content(errors, input.Name, input.Subject, input.Body, required: true);
        var audience = CampaignRules.Audience(errors, input.Audience);
        errors.ThrowIfAny();

        var now = time.GetUtcNow();
        var campaign = new Campaign(Guid.CreateVersion7(now), input.Name!, input.Subject!, input.Body!, CampaignStatuses.Draft, audience, null, now, now, 1);
        return await store.InsertAsync(access, campaign, plans.MaxCampaigns(access.Tier), cancellationToken);
    }

    public async Task<Campaign> GetAsync(WorkspaceAccess access, Guid id, CancellationToken cancellationToken) =>
        await store.FindAsync(access, id, cancellationToken) ?? throw NotFound();

    public async Task<Campaign> UpdateAsync(WorkspaceAccess access, Guid id, CampaignPatch patch, IfMatch ifMatch, CancellationToken cancellationToken)
    {
        var errors = new ValidationErrors();
        // Present fields must have values: a campaign always has a name, subject, body and audience.
        CampaignRules.Present(errors, patch);
        var audience = patch.Audience.IsPresent ? CampaignRules.Audience(errors, patch.Audience.Value) : null;
        errors.ThrowIfAny();

        return await store.UpdateAsync(access, id, current =>
        {
            ifMatch.Check(current.Version);
            if (!CampaignStatuses.IsEditable(current.Status))
            {
                throw new ProblemException(ProblemTypes.Conflict, $"A {current.Status} campaign cannot be edited; only draft and scheduled ones can.");
            }

            return current with
            {
                Name = patch.Name.Or(current.Name)!,
                Subject = patch.Subject.Or(current.Subject)!,
                Body = patch.Body.Or(current.Body)!,
                Audience = audience ?? current.Audience,
            };
        }, time.GetUtcNow(), cancellationToken) ?? throw NotFound();
    }

    public async Task<Campaign> TransitionAsync(WorkspaceAccess access, Guid id, CampaignTransition transition, IfMatch ifMatch, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var errors = new ValidationErrors();
        CampaignRules.Transition(errors, transition, now);
        errors.ThrowIfAny();

        var to = transition.To!;
        return await store.UpdateAsync(access, id, current =>
        {
            ifMatch.Check(current.Version);
            if (!CampaignStatuses.CanMove(current.Status, to))
            {
                throw new ProblemException(ProblemTypes.Conflict, $"A campaign cannot move from {current.Status} to {to}.");
            }

            var scheduledAt = to switch
            {
                CampaignStatuses.Scheduled => transition.ScheduledAt!.Value.ToUniversalTime(),
                CampaignStatuses.Draft => (DateTimeOffset?)null,
                _ => current.ScheduledAt,
            };
            return current with { Status = to, ScheduledAt = scheduledAt };
        }, now, cancellationToken) ?? throw NotFound();
    }

    /// <summary>Soft delete; a campaign that is sending must be cancelled first.</summary>
    public async Task DeleteAsync(WorkspaceAccess access, Guid id, CancellationToken cancellationToken)
    {
        var deleted = await store.DeleteAsync(access, id, current =>
        {
            if (current.Status == CampaignStatuses.Sending)
            {
                throw new ProblemException(ProblemTypes.Conflict, "A sending campaign cannot be deleted; cancel it first.");
            }
        }, time.GetUtcNow(), cancellationToken);
        if (!deleted)
        {
            throw NotFound();
        }
    }

    public async Task<Page<Campaign>> ListAsync(WorkspaceAccess access, string? status, string? limit, string? cursor, CancellationToken cancellationToken)
    {
        var errors = new ValidationErrors();
        var page = PageRequest.Parse(limit, cursor, errors);
        if (status is not null && !CampaignStatuses.IsValid(status))
        {
            errors.Add("status", $"must be one of {string.Join(", ", CampaignStatuses.All)}.");
        }

        errors.ThrowIfAny();
        return await store.ListAsync(access, status, page, cancellationToken);
    }

    public async Task<CampaignAudience> AudienceAsync(WorkspaceAccess access, Guid id, CancellationToken cancellationToken) =>
        await store.AudienceAsync(access, id, cancellationToken) ?? throw NotFound();

    public static ProblemException NotFound() => new(ProblemTypes.NotFound, "No such campaign in this workspace.");
}
