using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using ReplyAdmin.Engine.Configuration;

namespace ReplyAdmin.Engine.ClientSetup
{
    /// <summary>
    /// What staff enter in their mail client to read and answer the replies to one list (step 2 of the
    /// requirement). Holds no password, only where to ask for it.
    /// </summary>
    public sealed class MailClientSetting
    {
        /// <summary>The list these settings are for.</summary>
        public string ListName { get; set; }
        /// <summary>Always <c>IMAP</c>.</summary>
        public string AccountType { get; set; } = "IMAP";
        /// <summary>The list's address: staff answer from it.</summary>
        public string EmailAddress { get; set; }
        /// <summary>Name of the account in the client and sender name of answers (the list's description, else its name).</summary>
        public string DisplayName { get; set; }
        /// <summary>IMAP server of the shared folder.</summary>
        public string IncomingServer { get; set; }
        /// <summary>IMAP port (993).</summary>
        public int IncomingPort { get; set; }
        /// <summary>Always <c>SSL/TLS</c>: the folder is reachable only over implicit TLS.</summary>
        public string IncomingSecurity { get; set; } = "SSL/TLS";
        /// <summary>The reply mailbox's login name.</summary>
        public string IncomingUserName { get; set; }
        /// <summary>The shared IMAP folder the replies are in.</summary>
        public string Folder { get; set; }
        /// <summary>Largest reply stored in the folder, in bytes (10 MB by default).</summary>
        public long MaxMessageSize { get; set; } = ReplyMailboxSettings.DefaultMaxMessageSize;
        /// <summary>SMTP server for answers (the configured relay), or null when none is configured.</summary>
        public string OutgoingServer { get; set; }
        /// <summary>SMTP port, or null.</summary>
        public int? OutgoingPort { get; set; }
        /// <summary><c>STARTTLS</c>, <c>SSL/TLS</c> or <c>None</c>; null without an outgoing server.</summary>
        public string OutgoingSecurity { get; set; }
        /// <summary>SMTP login name; null when the relay needs no login.</summary>
        public string OutgoingUserName { get; set; }
        /// <summary><c>Password</c>, or <c>OAuth2</c> where the IMAP server needs a sign-in with the organisation's account (Microsoft 365, Google Workspace).</summary>
        public string IncomingAuthentication { get; set; } = "Password";
        /// <summary><c>Password</c> or <c>OAuth2</c> for the outgoing server; null without a login.</summary>
        public string OutgoingAuthentication { get; set; }
        /// <summary>Where the password comes from. The password itself is never part of these settings.</summary>
        public string PasswordNote { get; set; } = MailClientSetup.PasswordNoteEnglish;
        /// <summary>Problems staff would run into with these settings (e.g. a server on the loopback interface).</summary>
        public string[] Warnings { get; set; } = new string[0];

        /// <summary>The domain of <see cref="EmailAddress"/>.</summary>
        public string Domain => EmailAddress == null ? null : EmailAddress.Substring(EmailAddress.LastIndexOf('@') + 1);
    }

    /// <summary>Builds <see cref="MailClientSetting"/>s from the configuration and renders them as text for staff.</summary>
    public static class MailClientSetup
    {
        /// <summary>The English password note.</summary>
        public const string PasswordNoteEnglish = "Ask your administrator; it is not the platform login.";

        /// <summary>The English note for a server that needs OAuth2.</summary>
        public const string OAuthNoteEnglish = "OAuth2: sign in with your organisation account when the mail program asks; there is no separate password.";

        /// <summary>The German note for a server that needs OAuth2.</summary>
        public const string OAuthNoteGerman = "OAuth2: Melden Sie sich mit Ihrem Konto der Organisation an, wenn das E-Mail-Programm danach fragt; es gibt kein eigenes Passwort.";

        /// <summary>The German password note.</summary>
        public const string PasswordNoteGerman = "Erhalten Sie von Ihrem Administrator; es ist nicht das Passwort der Plattform-Anmeldung.";

        /// <summary>The languages <see cref="ToText"/> writes.</summary>
        public static readonly IReadOnlyList<string> Languages = new[] { "en", "de" };

        /// <summary>The mail-client settings of <paramref name="list"/>.</summary>
        /// <param name="list">The list whose address staff answer from.</param>
        /// <param name="configuration">The configuration with the reply mailbox and, if any, the SMTP relay.</param>
        /// <param name="configPath">The configuration file, named in errors.</param>
        /// <exception cref="ReplyAdminException"><c>ReplyMailboxNotConfigured</c>: there is no reply mailbox yet.</exception>
        public static MailClientSetting For(ReplyList list, ReplyAdminConfiguration configuration, string configPath)
        {
            if (list == null) throw new ArgumentNullException(nameof(list));
            var mailbox = RequireReplyMailbox(configuration, configPath);
            var relay = configuration.SmtpRelay;
            var warnings = new List<string>();
            if (ConfigurationValidator.IsLoopback(mailbox.Host))
                warnings.Add($"The IMAP server '{mailbox.Host}' is the loopback interface of this machine; staff's mail clients on other machines cannot reach it. Set-ReplyMailbox -Server with the name clients use.");
            if (relay == null || string.IsNullOrEmpty(relay.Host))
                warnings.Add("No SMTP relay is configured, so there is no outgoing server: staff can read replies but not answer from the list's address. Set-ReplySmtpRelay configures one.");
            else if (ConfigurationValidator.IsLoopback(relay.Host))
                warnings.Add($"The SMTP relay '{relay.Host}' is the loopback interface of this machine; staff's mail clients cannot send through it. Give staff the submission server of your mail system instead.");
            var hasRelay = relay != null && !string.IsNullOrEmpty(relay.Host);
            var incomingOAuth = AuthenticationSettings.UsesOAuth(mailbox.Authentication);
            var outgoingOAuth = hasRelay && AuthenticationSettings.UsesOAuth(relay.Authentication);
            if (incomingOAuth || outgoingOAuth)
                warnings.Add("The server needs OAuth2: staff sign in with their own organisation account, which needs access to the mailbox (Microsoft 365: Add-MailboxPermission -AccessRights FullAccess; Google: delegation). Apple's .mobileconfig cannot express OAuth2; use the Thunderbird profile or set the account up by hand.");
            return new MailClientSetting
            {
                ListName = list.Name,
                EmailAddress = list.Address,
                DisplayName = string.IsNullOrWhiteSpace(list.Description) ? list.Name : list.Description.Trim(),
                IncomingServer = mailbox.Host,
                IncomingPort = mailbox.Port,
                IncomingUserName = mailbox.UserName,
                Folder = mailbox.Folder,
                MaxMessageSize = mailbox.MaxMessageSize,
                OutgoingServer = hasRelay ? relay.Host : null,
                OutgoingPort = hasRelay ? relay.Port : (int?)null,
                OutgoingSecurity = hasRelay ? SecurityName(relay.TlsMode) : null,
                OutgoingUserName = hasRelay && !string.IsNullOrEmpty(relay.UserName) ? relay.UserName : null,
                IncomingAuthentication = incomingOAuth ? "OAuth2" : "Password",
                OutgoingAuthentication = hasRelay && !string.IsNullOrEmpty(relay.UserName) ? (outgoingOAuth ? "OAuth2" : "Password") : null,
                PasswordNote = incomingOAuth ? OAuthNoteEnglish : PasswordNoteEnglish,
                Warnings = warnings.ToArray(),
            };
        }

        /// <summary>The configured reply mailbox.</summary>
        /// <exception cref="ReplyAdminException"><c>ReplyMailboxNotConfigured</c>: there is no reply mailbox yet.</exception>
        public static ReplyMailboxSettings RequireReplyMailbox(ReplyAdminConfiguration configuration, string configPath)
        {
            var mailbox = configuration?.ReplyMailbox;
            if (mailbox == null || string.IsNullOrEmpty(mailbox.Host))
                throw new ReplyAdminException(ErrorIds.ReplyMailboxNotConfigured, ReplyAdminErrorKind.ObjectNotFound,
                    $"No reply mailbox is configured in {configPath}, so there are no mail-client settings to give staff.", configPath,
                    "Configure it with Set-ReplyMailbox -Server -UserName -Folder -CredentialReference.");
            return mailbox;
        }

        /// <summary>How a client names the SMTP connection security.</summary>
        public static string SecurityName(SmtpTlsMode mode) =>
            mode == SmtpTlsMode.StartTls ? "STARTTLS" : mode == SmtpTlsMode.Implicit ? "SSL/TLS" : "None";

        /// <summary>
        /// A short plain-text block with the settings, for a ticket or an e-mail to staff; never the password.
        /// </summary>
        /// <param name="setting">The settings.</param>
        /// <param name="language"><c>en</c> (default) or <c>de</c>.</param>
        /// <exception cref="ArgumentException">The language is not one of <see cref="Languages"/>.</exception>
        public static string ToText(MailClientSetting setting, string language = "en")
        {
            if (setting == null) throw new ArgumentNullException(nameof(setting));
            var german = string.Equals(language, "de", StringComparison.OrdinalIgnoreCase);
            if (!german && !string.Equals(language ?? "en", "en", StringComparison.OrdinalIgnoreCase))
                throw new ArgumentException($"'{language}' is not a supported language: use 'en' or 'de'.", nameof(language));
            var labels = german ? TextLabels.German : TextLabels.English;
            var rows = new List<KeyValuePair<string, string>>();
            void Row(string label, object value) => rows.Add(new KeyValuePair<string, string>(label, value?.ToString() ?? ""));

            var heading = string.Format(labels.Heading, setting.ListName);
            Row(labels.AccountType, setting.AccountType);
            Row(labels.EmailAddress, setting.EmailAddress);
            Row(labels.Name, setting.DisplayName);
            Row(labels.IncomingServer, setting.IncomingServer);
            Row(labels.Port, setting.IncomingPort);
            Row(labels.Security, labels.IncomingSecurity);
            Row(labels.UserName, setting.IncomingUserName);
            Row(setting.IncomingAuthentication == "OAuth2" ? labels.SignIn : labels.PasswordCaption, setting.IncomingAuthentication == "OAuth2" ? labels.OAuthNote : labels.PasswordNote);
            Row(labels.Folder, setting.Folder);
            if (setting.OutgoingServer != null)
            {
                Row(labels.OutgoingServer, setting.OutgoingServer);
                Row(labels.Port, setting.OutgoingPort);
                Row(labels.Security, setting.OutgoingSecurity == "None" ? labels.NoSecurity : setting.OutgoingSecurity);
                Row(labels.UserName, setting.OutgoingUserName ?? labels.NoLogin);
                if (setting.OutgoingAuthentication == "OAuth2")
                    Row(labels.SignIn, labels.OAuthNote);
            }
            else
            {
                Row(labels.OutgoingServer, labels.NotConfigured);
            }
            var width = rows.Max(r => r.Key.Length) + 2;
            var text = new StringBuilder();
            text.Append(heading).Append('\n');
            text.Append(new string('-', heading.Length)).Append('\n');
            foreach (var row in rows)
                text.Append((row.Key + ":").PadRight(width)).Append(row.Value).Append('\n');
            var size = (setting.MaxMessageSize / 1048576.0).ToString("0.#", System.Globalization.CultureInfo.InvariantCulture);
            if (german) size = size.Replace('.', ',');
            text.Append(string.Format(labels.Footer, size)).Append('\n');
            return text.ToString();
        }

        // The words of ToText in each language; the rows themselves are built once.
        private sealed class TextLabels
        {
            public static readonly TextLabels English = new TextLabels
            {
                Heading = "Mail client settings for the replies to the list '{0}'",
                AccountType = "Account type", EmailAddress = "E-mail address", Name = "Name",
                IncomingServer = "Incoming server (IMAP)", Port = "Port", Security = "Connection security", IncomingSecurity = "SSL/TLS (required)",
                UserName = "User name", PasswordCaption = "Password", PasswordNote = PasswordNoteEnglish, SignIn = "Authentication", OAuthNote = OAuthNoteEnglish, Folder = "IMAP folder",
                OutgoingServer = "Outgoing server (SMTP)", NoSecurity = "None", NoLogin = "(no login)", NotConfigured = "(not configured)",
                Footer = "All lists share this one IMAP folder. Messages larger than {0} MB are not stored there.",
            };

            public static readonly TextLabels German = new TextLabels
            {
                Heading = "E-Mail-Programm einrichten für die Antworten an den Verteiler '{0}'",
                AccountType = "Konto- oder Servertyp", EmailAddress = "E-Mail-Adresse", Name = "Name",
                IncomingServer = "Posteingangsserver (IMAP)", Port = "Port", Security = "Verbindungssicherheit", IncomingSecurity = "SSL/TLS (erforderlich)",
                UserName = "Benutzername", PasswordCaption = "Passwort", PasswordNote = PasswordNoteGerman, SignIn = "Authentifizierung", OAuthNote = OAuthNoteGerman, Folder = "IMAP-Ordner",
                OutgoingServer = "Postausgangsserver (SMTP)", NoSecurity = "keine", NoLogin = "(keine Anmeldung)", NotConfigured = "(nicht eingerichtet)",
                Footer = "Alle Verteiler teilen sich diesen einen IMAP-Ordner. Nachrichten über {0} MB werden dort nicht abgelegt.",
            };

            public string Heading, AccountType, EmailAddress, Name, IncomingServer, Port, Security, IncomingSecurity, UserName, PasswordCaption, PasswordNote, SignIn, OAuthNote,
                Folder, OutgoingServer, NoSecurity, NoLogin, NotConfigured, Footer;
        }
    }
}
