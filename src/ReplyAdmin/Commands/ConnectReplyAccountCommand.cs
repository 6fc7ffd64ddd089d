using System;
using System.Collections.Concurrent;
using System.Management.Automation;
using System.Threading.Tasks;
using ReplyAdmin.Engine;
using ReplyAdmin.Engine.Authentication;
using ReplyAdmin.Engine.Configuration;

namespace ReplyAdmin.Commands
{
    /// <summary>Which configured server entry to sign in for.</summary>
    public enum OAuthSignInTarget
    {
        /// <summary>The shared folder replies are stored in.</summary>
        ReplyMailbox,
        /// <summary>The inbound IMAP mailbox.</summary>
        Source,
        /// <summary>The SMTP relay forwards leave through.</summary>
        SmtpRelay,
    }

    /// <summary>The result of a device-code sign-in: who signed in and where the refresh token is kept. Holds no token.</summary>
    public sealed class ReplyAccountSignIn
    {
        /// <summary>The entry signed in for.</summary>
        public OAuthSignInTarget Target { get; internal set; }
        /// <summary>The account that signed in.</summary>
        public string Account { get; internal set; }
        /// <summary>When the first access token expires (later ones come from the refresh token).</summary>
        public DateTimeOffset ExpiresOn { get; internal set; }
        /// <summary>The token cache file (mode 0600).</summary>
        public string TokenCachePath { get; internal set; }
    }

    /// <summary>
    /// Signs in once, interactively (device code), for a server entry that uses Microsoft delegated OAuth2.
    /// </summary>
    [Cmdlet(VerbsCommunications.Connect, "ReplyAccount", SupportsShouldProcess = true)]
    [OutputType(typeof(ReplyAccountSignIn))]
    public sealed class ConnectReplyAccountCommand : ReplyAdminCmdlet
    {
        /// <summary>The entry to sign in for.</summary>
        [Parameter(Position = 0)]
        public OAuthSignInTarget Target { get; set; } = OAuthSignInTarget.ReplyMailbox;

        /// <summary>Time limit of each request to the identity provider, in seconds.</summary>
        [Parameter]
        [ValidateRange(1, 3600)]
        public int TimeoutSeconds { get; set; } = 30;

        /// <inheritdoc />
        protected override void EndProcessing()
        {
            var configuration = LoadConfiguration();
            string userName, field;
            AuthenticationSettings authentication;
            switch (Target)
            {
                case OAuthSignInTarget.SmtpRelay:
                    (userName, authentication, field) = (configuration.SmtpRelay?.UserName, configuration.SmtpRelay?.Authentication, "smtpRelay");
                    break;
                case OAuthSignInTarget.Source:
                    (userName, authentication, field) = (configuration.Source?.UserName, configuration.Source?.Authentication, "source");
                    break;
                default:
                    (userName, authentication, field) = (configuration.ReplyMailbox?.UserName, configuration.ReplyMailbox?.Authentication, "replyMailbox");
                    break;
            }
            if (!AuthenticationSettings.UsesOAuth(authentication))
            {
                ThrowTerminatingError(Error(ErrorIds.OAuthNotConfigured, ReplyAdminErrorKind.ObjectNotFound,
                    $"The {Target} in {ResolvedConfigPath} does not log in with OAuth2.", Target,
                    $"Configure it first, e.g. Set-{(Target == OAuthSignInTarget.SmtpRelay ? "ReplySmtpRelay" : Target == OAuthSignInTarget.Source ? "ReplySource" : "ReplyMailbox")} -Authentication OAuth2 -TokenSource MicrosoftDeviceCode -TenantId ... -ClientId ..."));
                return;
            }
            var source = Invoke(() => OAuthCredentials.DeviceCodeSource(authentication, userName, field + ".authentication", TimeSpan.FromSeconds(TimeoutSeconds)));
            if (!ShouldProcess(authentication.TokenCachePath, $"Sign in as {userName} and keep the refresh token"))
                return;
            // MSAL calls back on a worker thread; the message is written from this one.
            var messages = new BlockingCollection<string>();
            var signIn = Task.Run(async () =>
            {
                try { return await source.SignInAsync(messages.Add, StopToken).ConfigureAwait(false); }
                finally { messages.CompleteAdding(); }
            });
            foreach (var message in messages.GetConsumingEnumerable())
                WriteInformation(new InformationRecord(new HostInformationMessage { Message = message }, "Connect-ReplyAccount") { Tags = { "PSHOST" } });
            var result = Invoke(_ => signIn);
            WriteVerbose($"Signed in as {result.Account}; the refresh token is kept in {authentication.TokenCachePath} (readable by its owner only).");
            WriteObject(new ReplyAccountSignIn { Target = Target, Account = result.Account, ExpiresOn = result.ExpiresOn, TokenCachePath = authentication.TokenCachePath });
        }
    }
}
