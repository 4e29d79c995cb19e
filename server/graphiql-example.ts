/** The operations GraphiQL opens with: a first walk through PromptGate, top to bottom. */
export const EXAMPLE_OPERATION = `# Welcome to PromptGate.
# 1. Run "SignIn" (or SignUp) and paste data.logIn.token after "Bearer " in the
#    Headers tab below: { "Authorization": "Bearer pgs_..." }
# 2. Run "Me" to see your organizations, their prompts and flows.

mutation SignIn {
  logIn(input: { email: "demo@promptgate.local", password: "promptgate-demo" }) {
    token
    user { id email name }
  }
}

mutation SignUp {
  signUp(input: { email: "you@example.com", password: "choose-a-long-password", name: "You" }) {
    token
    user { id }
  }
}

query Me {
  viewer {
    user {
      name
      memberships {
        role
        organization {
          id
          name
          prompts(first: 10) { totalCount nodes { id name model variables } }
          flows(first: 10) { totalCount nodes { id name variables steps { position prompt { name } } } }
        }
      }
    }
  }
}
`;
