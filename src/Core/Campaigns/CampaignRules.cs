using AgentCrm.Core.Contacts;
using AgentCrm.Core.Platform.Problems;

namespace AgentCrm.Core.Campaigns;

internal static class CampaignRules
{
    public const int MaxName = 200;
    public const int MaxSubject = 300;
    public const int MaxBody = 100_000;

    public static void Content(ValidationErrors errors, string? name, string? subject, string? body, bool required)
    {
        errors.Text("name", name, MaxName, required);
        errors.Text("subject", subject, MaxSubject, required);
        errors.Text("body", body, MaxBody, required);
    }

    public static void Present(ValidationErrors errors, CampaignPatch patch)
    {
        if (patch.Name.IsPresent)
        {
            errors.Text("name", patch.Name.Value, MaxName, required: true);
        }

        if (patch.Subject.IsPresent)
        {
            errors.Text("subject", patch.Subject.Value, MaxSubject, required: true);
        }

        if (patch.Body.IsPresent)
        {
            errors.Text("body", patch.Body.Value, MaxBody, required: true);
        }

        if (patch.Audience is { IsPresent: true, Value: null })
        {
            errors.Add("audience", "must be a filter object; {} matches every contact.");
        }
    }

    public static ContactFilter Audience(ValidationErrors errors, ContactFilter? audience) =>
        (audience ?? new ContactFilter()).Normalize(errors, "audience.");

    public static void Transition(ValidationErrors errors, CampaignTransition transition, DateTimeOffset now)
    {
        if (!CampaignStatuses.IsValid(transition.To))
        {
            errors.Add("to", $"must be one of {string.Join(", ", CampaignStatuses.All)}.");
        }
        else if (transition.To == CampaignStatuses.Scheduled && transition.ScheduledAt is null)
        {
            errors.Add("scheduledAt", "is required to schedule a campaign.");
        }
        else if (transition.To == CampaignStatuses.Scheduled && transition.ScheduledAt <= now)
        {
            errors.Add("scheduledAt", "must be in the future.");
        }
        else if (transition.To != CampaignStatuses.Scheduled && transition.ScheduledAt is not null)
        {
            errors.Add("scheduledAt", "may only be given with to = scheduled.");
        }
    }
}
